import type { Clock } from '../shared/clock.ts';
import type { Issuer } from './authority.ts';
import { PkiInputError } from './errors.ts';
import { signCertificate } from './issue.ts';
import type { IssuedKeyAndCertificate } from './issued.ts';
import { exportPrivateKeyPem, generateRsaKeyPair } from './keys.ts';
import { bundle } from './server-certificate.ts';
import { buildName } from './name.ts';
import { x509 } from './x509.ts';

export interface ClientCertificateRequest {
  readonly commonName: string;
  readonly organizationalUnit?: string;
  readonly organizationName?: string;
  readonly validityDays?: number;
  readonly clock?: Clock;
}

/**
 * A plain TLS client certificate (clientAuth) with a fresh key: for test clients and operators.
 * Participants get theirs from the transport profile (OBWAC / QWAC) instead.
 */
export async function issueClientCertificate(
  issuer: Issuer,
  request: ClientCertificateRequest,
): Promise<IssuedKeyAndCertificate> {
  if (request.commonName.trim() === '') {
    throw new PkiInputError('profile.invalid', 'a client certificate needs a non-empty common name');
  }
  const rdns: [string, string][] = [['C', 'GB']];
  if (request.organizationName) rdns.push(['O', request.organizationName]);
  if (request.organizationalUnit) rdns.push(['OU', request.organizationalUnit]);
  rdns.push(['CN', request.commonName]);
  const keys = await generateRsaKeyPair();
  const certificate = await signCertificate(
    issuer,
    {
      subject: buildName(rdns),
      publicKey: keys.publicKey,
      validityDays: request.validityDays ?? 397,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      ],
    },
    { clock: request.clock },
  );
  return bundle(issuer, certificate, await exportPrivateKeyPem(keys.privateKey));
}
