import type { X509Certificate } from 'node:crypto';
import { RevocationChecker, type RevocationFetchers, type RevocationVerdict } from '../pki/index.ts';
import type { ClientCertificate } from '../shared/client-certificate.ts';
import type { Clock } from '../shared/clock.ts';
import type { MaybePromise } from '../shared/maybe-promise.ts';

/**
 * Whether a client certificate that chains to our trust anchors is still good: asked on every mutual-TLS
 * request (token, PAR, registration, every API, JWKms, the directory's participant routes), in direct and
 * in proxy mode, because a certificate revoked after the handshake — or after registration — must stop
 * working at once. OCSP first, then the CRL (the `RevocationChecker`); the answer is kept per certificate no
 * longer than the responder's nextUpdate and `maxCacheSeconds`, so the hot path does not touch the network.
 * A revocation announced by the directory (NOTIFY, or in-process) drops the kept answers at once.
 */
export interface CertificateStatusGate {
  /** A kept answer at once (no promise: this runs on every mutual-TLS request); else once asked. */
  check(certificate: ClientCertificate): MaybePromise<CertificateStatus>;
  /** The directory revoked `serialNumber` (hex): every kept answer about it, and every cached CRL, goes. */
  forgetSerial(serialNumber: string): void;
  /**
   * Answers about certificates of `issuer` come from a responder in this process (the sandbox directory
   * mounted beside us), whatever host their AIA names — so the sandbox never calls itself over the network.
   */
  answerLocally(issuer: X509Certificate, fetchers: RevocationFetchers): void;
}

export type CertificateStatus =
  | { accepted: true }
  | {
      accepted: false;
      revoked: boolean;
      detail: string;
      /** No configured CA issued it, so its status was not asked at all. */
      foreignIssuer?: true;
    };

export interface CertificateStatusOptions {
  /** The CAs that issue client certificates: the trust anchors and the configured intermediates. */
  issuers: readonly X509Certificate[];
  clock: Clock;
  /** Accept when neither OCSP nor the CRL answers (`revocationFailClosed: false`). */
  failOpen: boolean;
  /** The longest any answer is kept, whatever its nextUpdate says. */
  maxCacheSeconds: number;
  /** How responders are reached over the network (production, or a part running without the directory). */
  fetchers: RevocationFetchers;
  /**
   * The store's change version read for this request (`change-version.ts`): when it advanced, a
   * certificate may have been revoked on another instance, so nothing kept under an older one is served.
   */
  version?: () => number;
}

interface ForeignIssuer {
  foreign: string;
}

interface Kept {
  status: CertificateStatus;
  serial: string;
  until: number;
  version: number;
}

const MAX_KEPT = 10_000;

export function createCertificateStatusGate(options: CertificateStatusOptions): CertificateStatusGate {
  const checkerOptions = {
    clock: options.clock,
    failOpen: options.failOpen,
    maxCacheSeconds: options.maxCacheSeconds,
  };
  const remote = new RevocationChecker({ ...checkerOptions, fetchers: options.fetchers });
  const local = new Map<X509Certificate, RevocationChecker>();
  const kept = new Map<string, Kept>();
  const issuers = [...options.issuers];
  const versionNow = options.version ?? (() => 0);
  let clearedAt = versionNow();
  const forgetAll = (): void => {
    kept.clear();
    remote.clearCache();
    for (const checker of local.values()) checker.clearCache();
  };

  const issuerOf = (certificate: X509Certificate): X509Certificate | undefined =>
    issuers.find(
      (candidate) =>
        candidate.subject === certificate.issuer &&
        certificate.checkIssued(candidate) &&
        certificate.verify(candidate.publicKey),
    );

  const ask = async (certificate: X509Certificate): Promise<RevocationVerdict | ForeignIssuer> => {
    const issuer = issuerOf(certificate);
    if (!issuer) {
      return {
        foreign: `"${certificate.subject.replaceAll('\n', ', ')}" was not issued by a configured CA (trust anchors, transport CAs)`,
      };
    }
    return (local.get(issuer) ?? remote).check(certificate, issuer);
  };

  /** Keeps what `ask` answered (no longer than the responder's nextUpdate) and returns it as a status. */
  const keep = (
    certificate: ClientCertificate,
    verdict: RevocationVerdict | ForeignIssuer,
    now: number,
    version: number,
  ): CertificateStatus => {
    const status: CertificateStatus =
      'foreign' in verdict
        ? options.failOpen
          ? { accepted: true }
          : {
              accepted: false,
              revoked: false,
              detail: `${verdict.foreign}: its revocation status cannot be checked`,
              foreignIssuer: true,
            }
        : verdict.accepted
          ? { accepted: true }
          : { accepted: false, revoked: verdict.status === 'revoked', detail: verdict.detail };
    const until = 'foreign' in verdict ? now : (verdict.validUntil?.getTime() ?? now);
    if (until > now) {
      kept.delete(certificate.thumbprintS256);
      if (kept.size >= MAX_KEPT) kept.delete(kept.keys().next().value ?? '');
      kept.set(certificate.thumbprintS256, {
        status,
        serial: certificate.x509.serialNumber.toLowerCase(),
        until,
        version,
      });
    }
    return status;
  };

  return {
    check(certificate) {
      const now = options.clock.epochMs();
      const version = versionNow();
      if (version !== clearedAt) {
        clearedAt = version;
        forgetAll();
      }
      const hit = kept.get(certificate.thumbprintS256);
      if (hit && hit.until > now && hit.version === version) return hit.status;
      return ask(certificate.x509).then((verdict) => keep(certificate, verdict, now, version));
    },
    forgetSerial(serialNumber) {
      const serial = serialNumber.toLowerCase().replace(/^0+(?=.)/, '');
      for (const [thumbprint, entry] of kept) {
        if (entry.serial.replace(/^0+(?=.)/, '') === serial) kept.delete(thumbprint);
      }
      remote.clearCache();
      for (const checker of local.values()) checker.clearCache();
    },
    answerLocally(issuer, fetchers) {
      const known = issuers.find((candidate) => candidate.fingerprint256 === issuer.fingerprint256);
      if (!known) issuers.push(issuer);
      local.set(known ?? issuer, new RevocationChecker({ ...checkerOptions, fetchers }));
    },
  };
}
