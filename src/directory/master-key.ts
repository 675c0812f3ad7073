import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { count, isNotNull } from 'drizzle-orm';
import { schema, type Queryable } from '../store/index.ts';

/**
 * The directory's master key: 32 random bytes in `<dataDir>/directory/master.key` (mode 0600, in a
 * 0700 folder), created on first run. It seals private keys the directory keeps in the database (its
 * SSA-signing keys, and keys it generated for a TPP as a sandbox convenience) with AES-256-GCM. Every
 * instance that shares the database needs the same file.
 */
export interface MasterKey {
  seal(plaintext: string, context: string): string;
  open(sealed: string, context: string): string;
}

export class MasterKeyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MasterKeyError';
  }
}

const keyBytes = 32;
const version = 'v1';

export interface MasterKeyOptions {
  /**
   * How many keys sealed with a master key the database holds. A new key is made only when there are
   * none: a missing file beside sealed keys is a lost key (restore it), never a reason to write another.
   */
  sealedKeys?: () => Promise<number>;
}

export async function loadOrCreateMasterKey(
  path: string,
  options: MasterKeyOptions = {},
): Promise<MasterKey> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await chmod(dirname(path), 0o700);
  let raw: Buffer;
  try {
    await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const sealed = (await options.sealedKeys?.()) ?? 0;
    if (sealed > 0) {
      throw new MasterKeyError(
        `${resolve(path)} is missing, but the database holds ${sealed} private key${sealed === 1 ? '' : 's'} sealed with it; restore the file from your backup (a new key would not open them; in the sandbox, \`npx obkit sandbox reset\` starts afresh)`,
      );
    }
  }
  try {
    const handle = await open(path, 'wx', 0o600);
    try {
      raw = randomBytes(keyBytes);
      await handle.writeFile(`${raw.toString('base64')}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    raw = await readExisting(path);
  }
  return masterKeyFrom(raw);
}

async function readExisting(path: string): Promise<Buffer> {
  // A concurrent first start may still be writing it.
  for (let attempt = 0; attempt < 50; attempt++) {
    const text = (await readFile(path, 'utf8')).trim();
    if (text !== '') {
      const mode = (await stat(path)).mode & 0o777;
      if ((mode & 0o077) !== 0) {
        throw new MasterKeyError(
          `${path} is readable by group or others (mode ${mode.toString(8)}); chmod 600 it`,
        );
      }
      const raw = Buffer.from(text, 'base64');
      if (raw.length !== keyBytes || raw.toString('base64') !== text) {
        throw new MasterKeyError(`${path} does not hold a base64 ${keyBytes}-byte key`);
      }
      return raw;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new MasterKeyError(`${path} is empty`);
}

/** How many private keys the directory has sealed in the database (its signing keys, keys it generated). */
export async function countSealedKeys(db: Queryable): Promise<number> {
  const [signing] = await db.select({ n: count() }).from(schema.directorySigningKeys);
  const [generated] = await db
    .select({ n: count() })
    .from(schema.directoryCertificates)
    .where(isNotNull(schema.directoryCertificates.sealedPrivateKey));
  return (signing?.n ?? 0) + (generated?.n ?? 0);
}

export function masterKeyFrom(raw: Buffer): MasterKey {
  if (raw.length !== keyBytes) throw new MasterKeyError(`a master key has ${keyBytes} bytes`);
  const key = Buffer.from(raw);
  return {
    seal(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${version}.${iv.toString('base64url')}.${body.toString('base64url')}`;
    },
    open(sealed, context) {
      const [tag, iv, body, ...rest] = sealed.split('.');
      if (tag !== version || !iv || !body || rest.length > 0) {
        throw new MasterKeyError('a sealed key is not in the v1 format');
      }
      const bytes = Buffer.from(body, 'base64url');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(bytes.subarray(bytes.length - 16));
        return Buffer.concat([
          decipher.update(bytes.subarray(0, bytes.length - 16)),
          decipher.final(),
        ]).toString('utf8');
      } catch (error) {
        throw new MasterKeyError(
          'a sealed key does not open with this master key (another instance created a different master.key?)',
          { cause: error },
        );
      }
    },
  };
}
