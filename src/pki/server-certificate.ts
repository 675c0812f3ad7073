import { isIP } from 'node:net';
import type { Clock } from '../shared/clock.ts';
import type { Issuer } from './authority.ts';
import { PkiInputError } from './errors.ts';
import { signCertificate } from './issue.ts';
import type { IssuedKeyAndCertificate } from './issued.ts';
import { exportPrivateKeyPem, generateRsaKeyPair } from './keys.ts';
import { buildName } from './name.ts';
import { x509 } from './x509.ts';

export interface ServerCertificateRequest {
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  /** Default: the first DNS name, else the first IP address. */
  readonly commonName?: string;
  readonly validityDays?: number;
  readonly clock?: Clock;
}

/**
 * A TLS certificate with a fresh RSA-2048 key for the sandbox's HTTPS listeners, which is also the bank's
 * transport identity when it calls a TPP (event push over mutual TLS): serverAuth and clientAuth.
 */
export async function issueServerCertificate(
  issuer: Issuer,
  request: ServerCertificateRequest,
): Promise<IssuedKeyAndCertificate> {
  const names = [
    ...request.dnsNames.map((value) => ({ type: 'dns' as const, value: checkDnsName(value) })),
    ...request.ipAddresses.map((value) => ({ type: 'ip' as const, value: checkIpAddress(value) })),
  ];
  const first = names[0];
  if (!first)
    throw new PkiInputError(
      'profile.invalid',
      'a server certificate needs at least one DNS name or IP address',
    );
  const keys = await generateRsaKeyPair();
  const certificate = await signCertificate(
    issuer,
    {
      subject: buildName([['CN', request.commonName ?? first.value]]),
      publicKey: keys.publicKey,
      validityDays: request.validityDays ?? 397,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
          true,
        ),
        new x509.ExtendedKeyUsageExtension([
          x509.ExtendedKeyUsage.serverAuth,
          x509.ExtendedKeyUsage.clientAuth,
        ]),
        new x509.SubjectAlternativeNameExtension(names),
      ],
    },
    { clock: request.clock },
  );
  return bundle(issuer, certificate, await exportPrivateKeyPem(keys.privateKey));
}

export function bundle(
  issuer: Issuer,
  certificate: x509.X509Certificate,
  privateKeyPem: string,
): IssuedKeyAndCertificate {
  const certificatePem = `${certificate.toString('pem')}\n`;
  return {
    certificate,
    certificatePem,
    privateKeyPem,
    chainPem: issuer.chainPem,
    fullChainPem: `${certificatePem}${issuer.certificatePem}\n`,
  };
}

function checkDnsName(value: string): string {
  const label = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
  if (value.length > 253 || !label.test(value)) {
    throw new PkiInputError('profile.invalid', `"${value}" is not a valid DNS name for a certificate`);
  }
  return value;
}

function checkIpAddress(value: string): string {
  if (isIP(value) === 0)
    throw new PkiInputError('profile.invalid', `"${value}" is not an IPv4 or IPv6 address`);
  return value;
}
