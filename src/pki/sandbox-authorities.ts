import { createPublicKey } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock, type Clock } from '../shared/clock.ts';
import {
  caExtensions,
  type CertificateAuthority,
  type Issuer,
  type RevocationEndpoints,
} from './authority.ts';
import { CaStoreError, describe } from './errors.ts';
import {
  type CryptoKey,
  exportPrivateKeyPem,
  generateRsaKeyPair,
  importPrivateKeyPem,
  randomSerialNumber,
  signingAlgorithm,
} from './keys.ts';
import { buildName } from './name.ts';
import { x509 } from './x509.ts';

/** The sandbox's CA hierarchy: a self-signed root and the issuing CA that signs every participant certificate. */
export interface SandboxAuthorities {
  readonly root: CertificateAuthority;
  readonly issuing: Issuer;
  /** Issuing CA then root (PEM): what a relying party needs besides the leaf. */
  readonly chainPem: string;
  /** The root alone (PEM): what relying parties trust. */
  readonly trustAnchorsPem: string;
}

export interface SandboxAuthoritiesOptions {
  /** Revocation endpoints announced in certificates the issuing CA signs. */
  readonly endpoints?: RevocationEndpoints;
  readonly clock?: Clock;
  /** Subject prefix of both CAs; default "obkit Sandbox". */
  readonly organizationName?: string;
}

const files = {
  rootCertificate: 'root-ca.pem',
  rootKey: 'root-ca.key.pem',
  issuingCertificate: 'issuing-ca.pem',
  issuingKey: 'issuing-ca.key.pem',
} as const;

const lockName = '.create.lock';
const caKeyBits = 3072;
const rootValidityDays = 20 * 365;
const issuingValidityDays = 10 * 365;
const dayMilliseconds = 24 * 60 * 60 * 1000;

/**
 * Loads the sandbox CAs from `dir`, or creates them there on first use: PEM files, private keys mode
 * 0600 in a 0700 directory. Concurrent first starts are serialised by a lock file, so every process
 * ends up with the same hierarchy. Refuses (CaStoreError) half-present or inconsistent material rather
 * than overwrite a CA key.
 */
export async function loadOrCreateSandboxAuthorities(
  dir: string,
  options: SandboxAuthoritiesOptions = {},
): Promise<SandboxAuthorities> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const clock = options.clock ?? systemClock;
  const existing = await readExisting(dir);
  if (existing) return assemble(existing, options, clock);

  const lock = join(dir, lockName);
  const handle = await acquireLock(lock);
  if (!handle) {
    // Another process created them while we waited.
    const created = await readExisting(dir);
    if (!created)
      throw new CaStoreError(`CA files in ${dir} did not appear after another process locked ${lock}`);
    return assemble(created, options, clock);
  }
  try {
    const again = await readExisting(dir);
    if (again) return assemble(again, options, clock);
    const created = await createAuthorities(options, clock);
    await writePrivate(join(dir, files.rootKey), created.rootKey);
    await writePrivate(join(dir, files.issuingKey), created.issuingKey);
    await writePublic(join(dir, files.rootCertificate), created.rootCertificate);
    await writePublic(join(dir, files.issuingCertificate), created.issuingCertificate);
    return assemble(created, options, clock);
  } finally {
    await handle.close();
    await rm(lock, { force: true });
  }
}

interface StoredPems {
  rootCertificate: string;
  rootKey: string;
  issuingCertificate: string;
  issuingKey: string;
}

async function readExisting(dir: string, lockSeenGone = false): Promise<StoredPems | undefined> {
  const read = async (name: string): Promise<string | undefined> => {
    try {
      return await readFile(join(dir, name), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new CaStoreError(`cannot read ${join(dir, name)}: ${describe(error)}`, { cause: error });
    }
  };
  const found = {
    rootCertificate: await read(files.rootCertificate),
    rootKey: await read(files.rootKey),
    issuingCertificate: await read(files.issuingCertificate),
    issuingKey: await read(files.issuingKey),
  };
  const missing = Object.entries(found).filter(([, value]) => value === undefined);
  if (missing.length === 4) return undefined;
  // Some files only: another process holding the lock is still writing them (wait), or one died half-way.
  if (
    missing.length > 0 &&
    (await stat(join(dir, lockName)).then(
      () => true,
      () => false,
    ))
  )
    return undefined;
  // No lock now, but the files were read before this look: a writer may have written the rest and removed
  // its lock between the two (it removes the lock only after the last file). Read again once, after the
  // look; still incomplete without a lock is a directory left half-made.
  if (missing.length > 0 && !lockSeenGone) return readExisting(dir, true);
  if (missing.length > 0) {
    const names = missing.map(([key]) => files[key as keyof typeof files]).join(', ');
    throw new CaStoreError(
      `CA directory ${dir} is incomplete: ${names} missing; restore it or empty the directory`,
    );
  }
  return found as StoredPems;
}

async function acquireLock(lock: string): Promise<FileHandle | undefined> {
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      return await open(lock, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = await stat(lock).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > 60_000) await rm(lock, { force: true });
      else if (attempt > 0 && (await readExisting(join(lock, '..')))) return undefined;
      await sleep(50);
    }
  }
  return undefined;
}

async function writePrivate(path: string, pem: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, pem, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

async function writePublic(path: string, pem: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, pem, { mode: 0o644 });
  await rename(temporary, path);
}

async function createAuthorities(options: SandboxAuthoritiesOptions, clock: Clock): Promise<StoredPems> {
  const organization = options.organizationName ?? 'obkit Sandbox';
  const now = clock.now().getTime();
  const rootKeys = await generateRsaKeyPair(caKeyBits);
  const rootName = buildName([
    ['C', 'GB'],
    ['O', organization],
    ['CN', `${organization} Root CA`],
  ]);
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: rootName,
    notBefore: new Date(now - dayMilliseconds),
    notAfter: new Date(now + rootValidityDays * dayMilliseconds),
    keys: rootKeys,
    signingAlgorithm,
    extensions: await caExtensions.root(rootKeys.publicKey),
  });
  const rootAuthority: CertificateAuthority = {
    certificate: root,
    certificatePem: root.toString('pem'),
    privateKey: rootKeys.privateKey,
  };
  const issuingKeys = await generateRsaKeyPair(caKeyBits);
  const issuing = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: buildName([
      ['C', 'GB'],
      ['O', organization],
      ['CN', `${organization} Issuing CA`],
    ]),
    issuer: root.subjectName,
    notBefore: new Date(now - dayMilliseconds),
    notAfter: new Date(now + issuingValidityDays * dayMilliseconds),
    publicKey: issuingKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm,
    extensions: await caExtensions.issuing(issuingKeys.publicKey, rootAuthority),
  });
  return {
    rootCertificate: root.toString('pem') + '\n',
    rootKey: await exportPrivateKeyPem(rootKeys.privateKey),
    issuingCertificate: issuing.toString('pem') + '\n',
    issuingKey: await exportPrivateKeyPem(issuingKeys.privateKey),
  };
}

async function assemble(
  pems: StoredPems,
  options: SandboxAuthoritiesOptions,
  clock: Clock,
): Promise<SandboxAuthorities> {
  const root = await loadAuthority('root CA', pems.rootCertificate, pems.rootKey);
  const issuing = await loadAuthority('issuing CA', pems.issuingCertificate, pems.issuingKey);
  if (!(await issuing.certificate.verify({ publicKey: root.certificate.publicKey, signatureOnly: true }))) {
    throw new CaStoreError('the issuing CA certificate is not signed by the root CA key stored beside it');
  }
  const now = clock.now();
  for (const [label, authority] of [
    ['root CA', root],
    ['issuing CA', issuing],
  ] as const) {
    if (authority.certificate.notAfter <= now) {
      throw new CaStoreError(
        `the ${label} certificate expired on ${authority.certificate.notAfter.toISOString()}; empty the CA directory to create a new hierarchy`,
      );
    }
  }
  const chainPem = `${issuing.certificatePem}\n${root.certificatePem}\n`;
  return {
    root,
    issuing: { ...issuing, chainPem, endpoints: { ...options.endpoints } },
    chainPem,
    trustAnchorsPem: `${root.certificatePem}\n`,
  };
}

async function loadAuthority(
  label: string,
  certificatePem: string,
  keyPem: string,
): Promise<CertificateAuthority> {
  let certificate: x509.X509Certificate;
  let privateKey: CryptoKey;
  try {
    certificate = new x509.X509Certificate(certificatePem);
  } catch (error) {
    throw new CaStoreError(`the ${label} certificate file is not a PEM certificate: ${describe(error)}`, {
      cause: error,
    });
  }
  try {
    privateKey = await importPrivateKeyPem(keyPem);
  } catch (error) {
    throw new CaStoreError(`the ${label} key file is not a PKCS#8 RSA private key: ${describe(error)}`, {
      cause: error,
    });
  }
  const publicFromKey = createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
  if (!Buffer.from(certificate.publicKey.rawData).equals(publicFromKey)) {
    throw new CaStoreError(`the ${label} private key does not match the ${label} certificate`);
  }
  return { certificate, certificatePem: certificate.toString('pem'), privateKey };
}
