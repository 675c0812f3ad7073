import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { join } from 'node:path';

/**
 * The onboarding bundle: one folder holding what a TPP needs to talk to banks. File names say what each
 * file is; private keys are mode 0600. `bundle.json` is the summary, and later commands record what
 * they learn in it (client registrations, consents).
 */
export const bundleFiles = {
  summary: 'bundle.json',
  transportKey: 'transport.key.pem',
  transportCertificate: 'transport.cert.pem',
  signingKey: 'signing.key.pem',
  signingCertificate: 'signing.cert.pem',
  encryptionKey: 'encryption.key.pem',
  encryptionCertificate: 'encryption.cert.pem',
  caChain: 'ca-chain.pem',
  ssa: 'ssa.jwt',
} as const;

export type Role = 'AISP' | 'PISP' | 'CBPII';

export interface CertificateSummary {
  kid: string;
  serialNumber: string;
  certificateFile: string;
  keyFile: string;
}

export interface BankRegistration {
  clientId: string;
  /** How the client authenticates at the bank's token endpoint, as registered. */
  tokenEndpointAuthMethod?: 'private_key_jwt' | 'tls_client_auth';
  registeredAt: string;
  /** When `obkit tpp register` last updated this registration (PUT /register/{ClientId}). */
  updatedAt?: string;
  discoveryUrl: string;
  registrationClientUri?: string;
  registrationAccessToken?: string;
}

export interface ConsentRecord {
  consentId: string;
  kind: string;
  bank: string;
  createdAt: string;
  status?: string;
}

export interface BundleSummary {
  version: 1;
  createdAt: string;
  /**
   * `trustAnchor`: the `tan` of request signatures, when not the directory's host. `caFile`: the CA file
   * trusted for the directory's HTTPS at onboarding, trusted again by later commands unless they say.
   */
  directory: { url: string; jwksUri: string; trustAnchor?: string; caFile?: string };
  /** The bank the bundle was made for, when known at onboarding (the local sandbox is directory and bank). */
  bank?: { discoveryUrl: string };
  organisation: { id: string; name: string; organizationIdentifier?: string };
  software: { id: string; clientName: string; roles: Role[]; redirectUris: string[]; jwksUri: string };
  certificates: {
    transport: CertificateSummary;
    signing: CertificateSummary;
    encryption?: CertificateSummary;
  };
  registrations: Record<string, BankRegistration>;
  consents: ConsentRecord[];
}

export class BundleError extends Error {
  override name = 'BundleError';
}

export interface Bundle {
  dir: string;
  summary: BundleSummary;
  transportKeyPem: string;
  transportCertificatePem: string;
  signingKeyPem: string;
  signingCertificatePem: string;
  caChainPem: string;
  ssa: string;
}

export function writeBundleFile(dir: string, name: string, content: string, secret = false): void {
  const path = join(dir, name);
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, content, { mode: secret ? 0o600 : 0o644 });
  if (secret) chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

export function prepareBundleDir(dir: string): void {
  if (existsSync(join(dir, bundleFiles.summary))) {
    throw new BundleError(`${dir} already holds a bundle; choose another --out folder`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

export function readBundle(dir: string): Bundle {
  const read = (name: string): string => {
    const path = join(dir, name);
    if (!existsSync(path))
      throw new BundleError(`${path} is missing: is ${dir} a bundle written by obkit tpp onboard?`);
    return readFileSync(path, 'utf8');
  };
  let summary: BundleSummary;
  try {
    summary = JSON.parse(read(bundleFiles.summary)) as BundleSummary;
  } catch (error) {
    if (error instanceof BundleError) throw error;
    throw new BundleError(`${join(dir, bundleFiles.summary)} is not valid JSON`);
  }
  if (summary.version !== 1)
    throw new BundleError(`${dir}: unsupported bundle version ${String(summary.version)}`);
  const bundle: Bundle = {
    dir,
    summary,
    transportKeyPem: read(bundleFiles.transportKey),
    transportCertificatePem: read(bundleFiles.transportCertificate),
    signingKeyPem: read(bundleFiles.signingKey),
    signingCertificatePem: read(bundleFiles.signingCertificate),
    caChainPem: read(bundleFiles.caChain),
    ssa: read(bundleFiles.ssa).trim(),
  };
  checkPair(
    dir,
    bundleFiles.transportKey,
    bundle.transportKeyPem,
    bundleFiles.transportCertificate,
    bundle.transportCertificatePem,
  );
  checkPair(
    dir,
    bundleFiles.signingKey,
    bundle.signingKeyPem,
    bundleFiles.signingCertificate,
    bundle.signingCertificatePem,
  );
  return bundle;
}

/**
 * A key and its certificate must be a pair: a TLS handshake with a mismatched transport key fails deep
 * in the HTTP client ("fetch failed"), and a mismatched signing key makes signatures nobody can verify.
 */
function checkPair(
  dir: string,
  keyFile: string,
  keyPem: string,
  certificateFile: string,
  certificatePem: string,
): void {
  let matches: boolean;
  try {
    matches = new X509Certificate(certificatePem).checkPrivateKey(createPrivateKey(keyPem));
  } catch (error) {
    throw new BundleError(
      `${join(dir, keyFile)} or ${certificateFile} cannot be read as PEM: ${(error as Error).message}`,
    );
  }
  if (!matches)
    throw new BundleError(
      `${join(dir, keyFile)} is not the key of ${certificateFile}: restore the bundle's own key (or onboard again for a new pair)`,
    );
}

/** Records something learnt in bundle.json (atomically: write then rename). */
export function updateBundleSummary(dir: string, change: (summary: BundleSummary) => void): BundleSummary {
  const summary = readBundle(dir).summary;
  change(summary);
  writeBundleFile(dir, bundleFiles.summary, `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}
