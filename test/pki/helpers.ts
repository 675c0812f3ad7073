import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  loadOrCreateSandboxAuthorities,
  withRevocationEndpoints,
  type Issuer,
  type SandboxAuthorities,
} from '../../src/pki/index.ts';

export interface OpensslResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together. */
  output: string;
}

export function openssl(args: readonly string[]): OpensslResult {
  const run = spawnSync('openssl', args, { encoding: 'utf8' });
  if (run.error) throw run.error;
  return {
    status: run.status,
    stdout: run.stdout,
    stderr: run.stderr,
    output: `${run.stdout}\n${run.stderr}`,
  };
}

/** A temporary directory removed when the test process exits. */
export async function temporaryDirectory(prefix = 'obkit-pki-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface PkiFixture {
  dir: string;
  authorities: SandboxAuthorities;
  /** The issuing CA announcing OCSP and CRL URLs. */
  issuer: Issuer;
  rootPem: string;
  issuingPem: string;
  write(name: string, content: string | Uint8Array): Promise<string>;
}

const cache = new Map<string, Promise<SandboxAuthorities>>();

/** One CA hierarchy per test file (3072-bit CA keys take a moment), in a fresh temporary directory. */
export async function pkiFixture(): Promise<PkiFixture> {
  const dir = await temporaryDirectory();
  const key = 'shared';
  if (!cache.has(key)) cache.set(key, loadOrCreateSandboxAuthorities(join(dir, 'ca')));
  const authorities = await cache.get(key)!;
  const write = async (name: string, content: string | Uint8Array): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, content);
    return path;
  };
  return {
    dir,
    authorities,
    issuer: withRevocationEndpoints(authorities.issuing, {
      ocspUrl: 'http://ocsp.directory.test/ocsp',
      crlUrl: 'http://crl.directory.test/issuing.crl',
      caIssuersUrl: 'http://crl.directory.test/issuing.cer',
    }),
    rootPem: await write('root.pem', authorities.root.certificatePem),
    issuingPem: await write('issuing.pem', authorities.issuing.certificatePem),
    write,
  };
}

export const acme = {
  softwareId: 'Soft1234ABCD',
  orgId: '0015800001041REAAY',
  organizationName: 'Acme Payments Ltd',
  organizationIdentifier: 'PSDGB-FCA-123456',
} as const;
