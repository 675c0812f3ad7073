import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The directory operator's key: it changes a participant's status (Active, Suspended, Revoked) through
 * the REST API (`Authorization: Bearer <key>`) and the operator's pages (signed in with it). A random
 * secret in `<dataDir>/directory/operator.key` (mode 0600), made on first run; every instance sharing the
 * data directory has the same one.
 */
export interface OperatorKey {
  /** Whether `presented` is the key, or (`'session'`) the session token (constant time). */
  matches(presented: string, as?: 'key' | 'session'): boolean;
  /** The operator pages' session cookie value: derived from the key, so it ends when the key changes. */
  readonly sessionToken: string;
}

export async function loadOrCreateOperatorKey(path: string): Promise<OperatorKey> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  let secret: string;
  try {
    secret = (await readFile(path, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    secret = randomBytes(32).toString('base64url');
    try {
      await writeFile(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    } catch (raced) {
      // Another instance made it first: use theirs.
      if ((raced as NodeJS.ErrnoException).code !== 'EEXIST') throw raced;
      secret = (await readFile(path, 'utf8')).trim();
    }
  }
  if (secret.length < 16) throw new Error(`${path} must hold the operator key (at least 16 characters)`);
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  const sessionToken = createHmac('sha256', secret).update('directory operator session').digest('base64url');
  const expected = { key: digest(secret), session: digest(sessionToken) };
  return {
    matches: (presented, as = 'key') =>
      presented.length > 0 && timingSafeEqual(digest(presented), expected[as]),
    sessionToken,
  };
}
