import * as asn1js from 'asn1js';
import { systemClock, type Clock } from '../shared/clock.ts';
import type { CertificateAuthority } from './authority.ts';
import { PkiInputError } from './errors.ts';
import { signingAlgorithm } from './keys.ts';
import { canonicalDn, dnToString } from './dn.ts';
import {
  normalizeSerial,
  reasonName,
  revocationReasons,
  type RevocationReason,
} from './revocation-reason.ts';
import { x509 } from './x509.ts';

export interface RevokedCertificateEntry {
  /** Hex serial number of the revoked certificate. */
  readonly serialNumber: string;
  readonly revokedAt: Date;
  readonly reason?: RevocationReason;
}

export interface CrlOptions {
  /** Monotonic CRL number (RFC 5280 §5.2.3); the caller persists it. */
  readonly crlNumber: number | bigint;
  readonly clock?: Clock;
  /** nextUpdate − thisUpdate. Default one hour. */
  readonly validitySeconds?: number;
}

const crlNumberOid = '2.5.29.20';

/**
 * A DER CRL v2 signed by `issuer`, listing `entries` with their reason codes, with the CRL number and
 * authority key identifier extensions.
 */
export async function generateCrl(
  issuer: CertificateAuthority,
  entries: readonly RevokedCertificateEntry[],
  options: CrlOptions,
): Promise<Uint8Array> {
  const now = (options.clock ?? systemClock).now();
  const thisUpdate = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const validitySeconds = options.validitySeconds ?? 3600;
  if (BigInt(options.crlNumber) < 0n)
    throw new PkiInputError('profile.invalid', 'the CRL number must not be negative');
  const crl = await x509.X509CrlGenerator.create({
    issuer: issuer.certificate.subjectName,
    thisUpdate,
    nextUpdate: new Date(thisUpdate.getTime() + validitySeconds * 1000),
    signingAlgorithm,
    signingKey: issuer.privateKey,
    extensions: [
      await x509.AuthorityKeyIdentifierExtension.create(issuer.certificate.publicKey),
      new x509.Extension(crlNumberOid, false, asn1js.Integer.fromBigInt(BigInt(options.crlNumber)).toBER()),
    ],
    entries: entries.map((entry) => ({
      serialNumber: normalizeSerial(entry.serialNumber),
      revocationDate: entry.revokedAt,
      ...(entry.reason && entry.reason !== 'unspecified' ? { reason: revocationReasons[entry.reason] } : {}),
    })),
  });
  return new Uint8Array(crl.rawData);
}

/** A CRL that could not be used; the message says why. */
export class CrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CrlError';
  }
}

export interface VerifiedCrl {
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  /** The entry for this serial (hex), or undefined when not listed. */
  revoked(serialNumber: string): { revokedAt: Date; reason?: RevocationReason } | undefined;
}

/**
 * Reads a DER (or PEM) CRL and checks it: issued and signed by `issuer`, whose key may sign CRLs,
 * and current (thisUpdate not in the future, nextUpdate not past, beyond `skewSeconds`).
 */
export async function readCrl(
  der: Uint8Array | string,
  issuer: x509.X509Certificate,
  options: { clock?: Clock; skewSeconds?: number } = {},
): Promise<VerifiedCrl> {
  const now = (options.clock ?? systemClock).now().getTime();
  const skew = (options.skewSeconds ?? 300) * 1000;
  let crl: x509.X509Crl;
  try {
    crl = new x509.X509Crl(typeof der === 'string' ? der : new Uint8Array(der));
  } catch (error) {
    throw new CrlError(
      `the CRL is not a DER CertificateList: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (
    canonicalDn(dnToString(crl.issuerName.toArrayBuffer())) !==
    canonicalDn(dnToString(issuer.subjectName.toArrayBuffer()))
  ) {
    throw new CrlError(`the CRL was issued by "${crl.issuer}", not by "${issuer.subject}"`);
  }
  const keyUsage = issuer.getExtension(x509.KeyUsagesExtension);
  if (keyUsage && !(keyUsage.usages & x509.KeyUsageFlags.cRLSign)) {
    throw new CrlError('the CRL issuer is not allowed to sign CRLs (no cRLSign key usage)');
  }
  const signatureOk = await crl.verify({ publicKey: issuer.publicKey }).catch(() => false);
  if (!signatureOk) throw new CrlError('the CRL signature does not verify with the issuer key');
  if (crl.thisUpdate.getTime() > now + skew) {
    throw new CrlError(`the CRL's thisUpdate ${crl.thisUpdate.toISOString()} is in the future`);
  }
  if (crl.nextUpdate && crl.nextUpdate.getTime() < now - skew) {
    throw new CrlError(`the CRL is stale: its nextUpdate was ${crl.nextUpdate.toISOString()}`);
  }
  return {
    thisUpdate: crl.thisUpdate,
    nextUpdate: crl.nextUpdate,
    revoked(serialNumber) {
      const entry = crl.findRevoked(normalizeSerial(serialNumber));
      if (!entry) return undefined;
      const reason = entry.reason === undefined ? undefined : reasonName(entry.reason);
      if (reason === 'removeFromCRL') return undefined;
      return { revokedAt: entry.revocationDate, ...(reason ? { reason } : {}) };
    },
  };
}
