import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import {
  bundleFiles,
  prepareBundleDir,
  writeBundleFile,
  type BundleSummary,
  type CertificateSummary,
  type Role,
} from './bundle.ts';
import { generateKeyAndCsr } from './csr.ts';
import { TppUsageError } from './errors.ts';
import { createHttpClient, describeFailure, send } from './http.ts';

export interface OnboardRequest {
  directoryUrl: string;
  organisationName: string;
  clientName: string;
  roles: Role[];
  redirectUris: string[];
  certificateProfile: 'obie' | 'eidas';
  outDir: string;
  /** PEM CAs to trust for the directory's HTTPS (the sandbox CA); system roots when empty. */
  trust: string[];
  /**
   * The `http://openbanking.org.uk/tan` of this directory's participants' signatures, when it is not the
   * directory's host (the Open Banking directory's is `openbanking.org.uk`).
   */
  trustAnchor?: string;
  /** Recorded in the bundle: the CA file trusted for the directory, and the bank it goes with (sandbox). */
  caFile?: string;
  bankDiscoveryUrl?: string;
  progress?: (line: string) => void;
}

interface IssuedCertificate {
  kid: string;
  pem: string;
  serialNumber: string;
}

interface OnboardResponse {
  organisation: { id: string; name: string; organizationIdentifier?: string };
  software: { id: string; clientName: string; roles: Role[]; redirectUris?: string[] };
  certificates: { transport: IssuedCertificate; signing: IssuedCertificate; encryption?: IssuedCertificate };
  caChainPem: string;
  ssa: string;
  jwksUris: { software: string; organisation: string; directory: string };
}

const ROLES: readonly Role[] = ['AISP', 'PISP', 'CBPII'];

export function parseRoles(text: string): Role[] {
  const roles = text
    .split(',')
    .map((role) => role.trim().toUpperCase())
    .filter(Boolean);
  const unknown = roles.filter((role) => !ROLES.includes(role as Role));
  if (roles.length === 0 || unknown.length > 0) {
    throw new TppUsageError(
      `roles must be a comma-separated list of ${ROLES.join(', ')}; got ${JSON.stringify(text)}`,
    );
  }
  return [...new Set(roles)] as Role[];
}

/**
 * Onboards a TPP at a directory: makes transport, signing and encryption keys here, sends only their
 * CSRs, and writes the bundle (keys, certificates, CA chain, SSA, summary) to `outDir`.
 */
export async function onboard(request: OnboardRequest): Promise<BundleSummary> {
  const progress = request.progress ?? (() => undefined);
  for (const uri of request.redirectUris) {
    if (!URL.canParse(uri) || new URL(uri).protocol !== 'https:')
      throw new TppUsageError(`redirect URI must be https: ${uri}`);
  }
  prepareBundleDir(request.outDir);

  const subject = { commonName: request.clientName, organizationName: request.organisationName };
  const transport = await generateKeyAndCsr(subject);
  progress('generated transport key and CSR (the key stays here)');
  const signing = await generateKeyAndCsr(subject);
  progress('generated signing key and CSR');
  const encryption = await generateKeyAndCsr(subject);
  progress('generated encryption key and CSR');

  const client = createHttpClient({ trust: request.trust });
  try {
    const directory = request.directoryUrl.replace(/\/+$/, '');
    const response = await send(client, `${directory}/directory/v1/onboard`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        organisation: { name: request.organisationName },
        software: {
          clientName: request.clientName,
          roles: request.roles,
          redirectUris: request.redirectUris,
        },
        certificateProfile: request.certificateProfile,
        csrs: { transport: transport.csrPem, signing: signing.csrPem, encryption: encryption.csrPem },
      }),
    });
    if (response.status !== 201) throw describeFailure('onboarding at the directory', response);
    const issued = response.json as OnboardResponse;
    progress(`directory created organisation ${issued.organisation.id} and software ${issued.software.id}`);

    await verifySsa(client, issued);
    progress('software statement (SSA) verified against the directory JWKS');

    const write = (name: string, content: string, secret = false): void =>
      writeBundleFile(request.outDir, name, content, secret);
    write(bundleFiles.transportKey, transport.privateKeyPem, true);
    write(bundleFiles.signingKey, signing.privateKeyPem, true);
    write(bundleFiles.encryptionKey, encryption.privateKeyPem, true);
    write(bundleFiles.transportCertificate, issued.certificates.transport.pem);
    write(bundleFiles.signingCertificate, issued.certificates.signing.pem);
    if (issued.certificates.encryption)
      write(bundleFiles.encryptionCertificate, issued.certificates.encryption.pem);
    write(bundleFiles.caChain, issued.caChainPem);
    write(bundleFiles.ssa, `${issued.ssa}\n`);

    const certificate = (
      kind: 'transport' | 'signing' | 'encryption',
      value: IssuedCertificate,
    ): CertificateSummary => ({
      kid: value.kid,
      serialNumber: value.serialNumber,
      certificateFile: bundleFiles[`${kind}Certificate`],
      keyFile: bundleFiles[`${kind}Key`],
    });
    const summary: BundleSummary = {
      version: 1,
      createdAt: new Date().toISOString(),
      directory: {
        url: directory,
        jwksUri: issued.jwksUris.directory,
        ...(request.trustAnchor ? { trustAnchor: request.trustAnchor } : {}),
        ...(request.caFile ? { caFile: request.caFile } : {}),
      },
      ...(request.bankDiscoveryUrl ? { bank: { discoveryUrl: request.bankDiscoveryUrl } } : {}),
      organisation: issued.organisation,
      software: {
        id: issued.software.id,
        clientName: issued.software.clientName,
        roles: issued.software.roles,
        redirectUris: issued.software.redirectUris ?? request.redirectUris,
        jwksUri: issued.jwksUris.software,
      },
      certificates: {
        transport: certificate('transport', issued.certificates.transport),
        signing: certificate('signing', issued.certificates.signing),
        ...(issued.certificates.encryption
          ? { encryption: certificate('encryption', issued.certificates.encryption) }
          : {}),
      },
      registrations: {},
      consents: [],
    };
    write(bundleFiles.summary, `${JSON.stringify(summary, null, 2)}\n`);
    progress(
      `bundle written to ${request.outDir}: it holds your private keys (mode 0600), keep it safe and never commit or share it`,
    );
    return summary;
  } finally {
    await client.close();
  }
}

async function verifySsa(
  client: ReturnType<typeof createHttpClient>,
  issued: OnboardResponse,
): Promise<void> {
  const response = await send(client, issued.jwksUris.directory);
  if (response.status !== 200) throw describeFailure('fetching the directory JWKS', response);
  // The directory's JWKS is fetched through our client so that the sandbox CA is trusted for it.
  const keys = createLocalJWKSet(response.json as JSONWebKeySet);
  const { payload } = await jwtVerify(issued.ssa, keys, { algorithms: ['PS256'] });
  if (payload.software_id !== issued.software.id) {
    throw new Error(`the SSA names software ${String(payload.software_id)}, not ${issued.software.id}`);
  }
}
