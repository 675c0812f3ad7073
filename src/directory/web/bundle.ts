import { DirectoryError } from '../errors.ts';
import type { DirectoryService, OrganisationRow, SoftwareRow } from '../service.ts';
import { tarGz, type TarEntry } from '../tar.ts';
import { certificateTypes } from '../validation.ts';

/** File names of the bundle, the same as `obkit tpp onboard` writes, so `--bundle` reads either. */
const bundleFiles = {
  summary: 'bundle.json',
  transport: { key: 'transport.key.pem', certificate: 'transport.cert.pem' },
  signing: { key: 'signing.key.pem', certificate: 'signing.cert.pem' },
  encryption: { key: 'encryption.key.pem', certificate: 'encryption.cert.pem' },
  caChain: 'ca-chain.pem',
  ssa: 'ssa.jwt',
} as const;

/**
 * The bundle of a software statement (tar.gz): its newest active certificates, their keys where the
 * directory generated them, the CA chain, a fresh SSA and bundle.json.
 */
export async function bundle(
  service: DirectoryService,
  caChainPem: string,
  organisation: OrganisationRow,
  software: SoftwareRow,
): Promise<Buffer> {
  const certificates = await service.certificatesOf(software.id);
  const folder = `obkit-bundle-${software.id}`;
  const entries: TarEntry[] = [];
  const summaryCertificates: Record<
    string,
    { kid: string; serialNumber: string; certificateFile: string; keyFile: string }
  > = {};
  for (const type of certificateTypes) {
    // The newest active certificate of each type (newest first from certificatesOf).
    const certificate = certificates.find((item) => item.type === type && item.status === 'active');
    if (!certificate) continue;
    const names = bundleFiles[type];
    entries.push({ name: `${folder}/${names.certificate}`, content: certificate.certificatePem });
    const privateKey = service.privateKeyOf(certificate);
    if (privateKey) entries.push({ name: `${folder}/${names.key}`, content: privateKey, mode: 0o600 });
    summaryCertificates[type] = {
      kid: certificate.kid,
      serialNumber: certificate.serialNumber,
      certificateFile: names.certificate,
      keyFile: names.key,
    };
  }
  if (!summaryCertificates.transport || !summaryCertificates.signing) {
    throw new DirectoryError(
      409,
      'conflict',
      'the software has no active transport and signing certificates to bundle',
    );
  }
  const ssa = await service.issueSsa(software.id);
  const directoryUrl = new URL(service.addresses.issuer).origin;
  const summary = {
    version: 1,
    createdAt: service.now().toISOString(),
    directory: { url: directoryUrl, jwksUri: `${service.addresses.issuer}/v1/jwks` },
    organisation: {
      id: organisation.id,
      name: organisation.name,
      organizationIdentifier: organisation.organizationIdentifier,
    },
    software: {
      id: software.id,
      clientName: software.clientName,
      roles: software.roles,
      redirectUris: software.redirectUris,
      jwksUri: service.addresses.softwareJwks(organisation.id, software.id),
    },
    certificates: summaryCertificates,
    registrations: {},
    consents: [],
  };
  entries.push(
    { name: `${folder}/${bundleFiles.caChain}`, content: caChainPem },
    { name: `${folder}/${bundleFiles.ssa}`, content: `${ssa}\n` },
    { name: `${folder}/${bundleFiles.summary}`, content: `${JSON.stringify(summary, null, 2)}\n` },
  );
  return tarGz(entries, service.now());
}
