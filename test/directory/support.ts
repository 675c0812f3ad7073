import { spawn, spawnSync } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { sql } from 'drizzle-orm';
import { x509 } from '../../src/pki/index.ts';
import {
  mountDirectory,
  type DirectoryPartOptions,
  type MountedDirectory,
} from '../../src/directory/index.ts';
import type { Part } from '../../src/server/platform.ts';
import { splitPemCertificates } from '../../src/server/tls-material.ts';
import type { Clock } from '../../src/shared/clock.ts';
import {
  call,
  httpsClient,
  startTestPlatform,
  type JsonResponse,
  type TestPlatform,
} from '../support/platform.ts';

export interface KeyAndCsr {
  privateKeyPem: string;
  csrPem: string;
}

/** A CSR as a TPP would make it: RSA-2048 / SHA-256 unless told otherwise. */
export async function makeCsr(
  options: { bits?: number; hash?: 'SHA-1' | 'SHA-256'; ec?: boolean; commonName?: string } = {},
): Promise<KeyAndCsr> {
  const algorithm = options.ec
    ? { name: 'ECDSA', namedCurve: 'P-256', hash: options.hash ?? 'SHA-256' }
    : {
        name: 'RSASSA-PKCS1-v1_5',
        hash: options.hash ?? 'SHA-256',
        modulusLength: options.bits ?? 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
      };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${options.commonName ?? 'tpp'}, O=Test TPP, C=GB`,
    keys,
    signingAlgorithm: algorithm,
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { privateKeyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'), csrPem: csr.toString('pem') };
}

export interface Onboarded {
  body: OnboardAnswer;
  transport: KeyAndCsr;
  signing: KeyAndCsr;
  encryption: KeyAndCsr;
}

export interface IssuedAnswer {
  kid: string;
  pem: string;
  serialNumber: string;
}

export interface OnboardAnswer {
  organisation: { id: string; name: string; organizationIdentifier: string };
  software: { id: string; clientName: string; roles: string[]; redirectUris: string[] };
  certificates: { transport: IssuedAnswer; signing: IssuedAnswer; encryption?: IssuedAnswer };
  caChainPem: string;
  ssa: string;
  jwksUris: { software: string; organisation: string; directory: string };
}

export interface DirectoryHarness {
  platform: TestPlatform;
  /** The mounted directory's service, for what HTTP does not expose (explicit key rotation). */
  directory: MountedDirectory;
  /** PEMs the test clients trust for the platform's TLS. */
  ca: string[];
  browser: ReturnType<typeof httpsClient>;
  base: string;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<JsonResponse>;
  get(path: string): Promise<JsonResponse>;
  onboard(overrides?: {
    organisation?: object;
    software?: object;
    certificateProfile?: string;
  }): Promise<Onboarded>;
  /** An HTTPS client presenting a transport certificate. */
  asParticipant(certificatePem: string, privateKeyPem: string): ReturnType<typeof httpsClient>;
}

export async function startDirectory(
  options: { clock?: Clock; directory?: DirectoryPartOptions; env?: Record<string, string> } = {},
): Promise<DirectoryHarness> {
  let mounted: MountedDirectory | undefined;
  const part: Part = {
    name: 'directory',
    async mount(context) {
      mounted = await mountDirectory(context, options.directory);
    },
  };
  const platform = await startTestPlatform({
    parts: [part],
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.env ? { env: options.env } : {}),
  });
  const ca = splitPemCertificates(platform.tls.ca.join('\n'));
  const browser = httpsClient(ca);
  const base = `${platform.urls.browser}/directory/v1`;
  if (!mounted) throw new Error('the directory did not mount');
  const harness: DirectoryHarness = {
    platform,
    directory: mounted,
    ca,
    browser,
    base,
    post: (path, body, headers = {}) =>
      call(browser, `${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    get: (path) => call(browser, `${base}${path}`),
    async onboard(overrides = {}) {
      const [transport, signing, encryption] = await Promise.all([makeCsr(), makeCsr(), makeCsr()]);
      const response = await harness.post('/onboard', {
        organisation: { name: 'Acme Payments Ltd', ...overrides.organisation },
        software: {
          clientName: 'Acme App',
          roles: ['AISP', 'PISP'],
          redirectUris: ['https://acme.example/callback'],
          ...overrides.software,
        },
        ...(overrides.certificateProfile ? { certificateProfile: overrides.certificateProfile } : {}),
        csrs: { transport: transport.csrPem, signing: signing.csrPem, encryption: encryption.csrPem },
      });
      if (response.status !== 201) throw new Error(`onboarding failed: ${response.status} ${response.text}`);
      return { body: response.body as OnboardAnswer, transport, signing, encryption };
    },
    asParticipant: (certificatePem, privateKeyPem) => httpsClient(ca, { certificatePem, privateKeyPem }),
  };
  return harness;
}

/** Runs openssl with arguments (no shell); status and both outputs. */
export function openssl(args: string[], input?: Buffer): { status: number; stdout: string; stderr: string } {
  const result = spawnSync('openssl', args, { encoding: 'utf8', ...(input ? { input } : {}) });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Writes files into a fresh temporary folder, removed after the test file. */
export function scratch(): { dir: string; write(name: string, content: string | Uint8Array): string } {
  const dir = mkdtempSync(join(tmpdir(), 'obkit-directory-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    write(name, content) {
      const path = join(dir, name);
      writeFileSync(path, content);
      return path;
    },
  };
}

/** Row counts of the directory's tables, straight from the database. */
export async function directoryRowCounts(harness: DirectoryHarness): Promise<Record<string, number>> {
  const { db } = harness.platform.store;
  const count = async (table: string) => {
    const result = await db.execute(sql.raw(`select count(*)::int as n from ${table}`));
    const rows = (Array.isArray(result) ? result : (result as { rows: { n: number }[] }).rows) as {
      n: number;
    }[];
    return Number(rows[0]?.n ?? -1);
  };
  return {
    organisations: await count('directory_organisations'),
    software: await count('directory_software'),
    certificates: await count('directory_certificates'),
  };
}

/** openssl without blocking the event loop: the server it talks to runs in this process. */
export function opensslAsync(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status: status ?? -1, stdout, stderr }));
  });
}

export function splitChain(caChainPem: string): { issuing: string; root: string } {
  const [issuing, root] =
    caChainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (!issuing || !root) throw new Error('the CA chain does not hold two certificates');
  return { issuing: `${issuing}\n`, root: `${root}\n` };
}
