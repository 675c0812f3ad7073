import { createHash } from 'node:crypto';
import { systemClock, type Clock } from '../shared/clock.ts';
import { toX509, type CertificateInput } from './certificate-input.ts';
import { readCrl, type VerifiedCrl } from './crl.ts';
import { describe } from './errors.ts';
import { buildOcspRequest, readOcspResponse } from './ocsp-client.ts';
import type { RevocationReason } from './revocation-reason.ts';
import { x509 } from './x509.ts';

/** How the checker reaches responders; inject your own in tests (or to make them "down"). */
export interface RevocationFetchers {
  /** POSTs a DER OCSPRequest to `url`, resolves with the DER OCSPResponse. */
  ocsp(url: string, requestDer: Uint8Array): Promise<Uint8Array>;
  /** GETs the DER CRL at `url`. */
  crl(url: string): Promise<Uint8Array>;
}

export interface RevocationCheckerOptions {
  readonly fetchers?: RevocationFetchers;
  readonly clock?: Clock;
  /**
   * When neither OCSP nor a CRL gives an answer: refuse (false, the default: fail closed) or accept
   * (true: fail open, for deployments that prefer availability). Revoked is always refused.
   */
  readonly failOpen?: boolean;
  /** Upper bound on how long any answer is cached, whatever its nextUpdate says. Default 1 hour. */
  readonly maxCacheSeconds?: number;
  /**
   * How long an "unavailable" verdict is kept before OCSP and CRL are asked again, so an outage does
   * not make every request wait for the fetch timeouts. Default 5 seconds; 0 disables.
   */
  readonly unavailableCacheSeconds?: number;
}

export interface RevocationVerdict {
  /** May the certificate be used? */
  readonly accepted: boolean;
  readonly status: 'good' | 'revoked' | 'unavailable';
  /** Who answered: the OCSP responder, the CRL, or nobody. */
  readonly source: 'ocsp' | 'crl' | 'none';
  readonly revokedAt?: Date;
  readonly reason?: RevocationReason;
  /** Why each source that did not answer failed, e.g. "OCSP http://…: fetch failed". */
  readonly problems: readonly string[];
  /** One sentence for logs and error messages. */
  readonly detail: string;
  /**
   * Until when this answer may be relied on: the OCSP answer's or CRL's nextUpdate, capped by the
   * checker's maximum (for `unavailable`, the short retry delay). Callers that keep the verdict in a cache of
   * their own keep it no longer than this.
   */
  readonly validUntil?: Date;
}

/** A refused certificate: revoked, or status unavailable under fail-closed. */
export class RevocationError extends Error {
  readonly verdict: RevocationVerdict;
  constructor(verdict: RevocationVerdict) {
    super(verdict.detail);
    this.name = 'RevocationError';
    this.verdict = verdict;
  }
}

interface Cached<T> {
  readonly value: T;
  readonly until: number;
}

/**
 * Revocation checking for relying parties: asks the OCSP responder named in the certificate's
 * Authority Information Access first, falls back to its CRL distribution points, caches each answer
 * until its nextUpdate (capped), and refuses when neither answers unless configured to fail open.
 */
export class RevocationChecker {
  readonly #fetchers: RevocationFetchers;
  readonly #clock: Clock;
  readonly #failOpen: boolean;
  readonly #maxCacheMilliseconds: number;
  readonly #unavailableCacheMilliseconds: number;
  readonly #answers = new Map<string, Cached<RevocationVerdict>>();
  readonly #crls = new Map<string, Cached<VerifiedCrl>>();
  readonly #inFlight = new Map<string, Promise<RevocationVerdict>>();

  constructor(options: RevocationCheckerOptions = {}) {
    this.#fetchers = options.fetchers ?? httpRevocationFetchers();
    this.#clock = options.clock ?? systemClock;
    this.#failOpen = options.failOpen ?? false;
    this.#maxCacheMilliseconds = (options.maxCacheSeconds ?? 3600) * 1000;
    this.#unavailableCacheMilliseconds = (options.unavailableCacheSeconds ?? 5) * 1000;
  }

  /** The verdict for `certificate`, issued by `issuer` (whose key signs the CRL or OCSP answers). */
  async check(certificateInput: CertificateInput, issuerInput: CertificateInput): Promise<RevocationVerdict> {
    const certificate = toX509(certificateInput);
    const issuer = toX509(issuerInput);
    const key = `${createHash('sha256').update(new Uint8Array(issuer.publicKey.rawData)).digest('hex')}:${certificate.serialNumber.toLowerCase()}`;
    const now = this.#clock.now().getTime();
    const cached = this.#answers.get(key);
    if (cached && cached.until > now) return cached.value;
    const running = this.#inFlight.get(key);
    if (running) return running;
    const work = this.#ask(certificate, issuer, key).finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, work);
    return work;
  }

  /** Resolves when the certificate may be used; throws RevocationError otherwise. */
  async assertNotRevoked(
    certificate: CertificateInput,
    issuer: CertificateInput,
  ): Promise<RevocationVerdict> {
    const verdict = await this.check(certificate, issuer);
    if (!verdict.accepted) throw new RevocationError(verdict);
    return verdict;
  }

  /** Forgets every cached answer and CRL (e.g. after the operator revoked something locally). */
  clearCache(): void {
    this.#answers.clear();
    this.#crls.clear();
  }

  async #ask(
    certificate: x509.X509Certificate,
    issuer: x509.X509Certificate,
    key: string,
  ): Promise<RevocationVerdict> {
    const problems: string[] = [];
    const serial = certificate.serialNumber.toLowerCase();
    const subject = certificate.subject;

    for (const url of ocspUrls(certificate)) {
      try {
        const request = await buildOcspRequest(certificate, issuer);
        const answer = await readOcspResponse(await this.#fetchers.ocsp(url, request.der), {
          certificate,
          issuer,
          request,
          clock: this.#clock,
        });
        if (answer.status.status === 'unknown') {
          problems.push(`OCSP ${url}: the responder does not know the certificate`);
          continue;
        }
        const verdict: RevocationVerdict =
          answer.status.status === 'good'
            ? {
                accepted: true,
                status: 'good',
                source: 'ocsp',
                problems,
                detail: `"${subject}" is good (OCSP)`,
              }
            : revokedVerdict(subject, 'ocsp', answer.status.revokedAt, answer.status.reason, problems);
        return this.#remember(key, verdict, answer.nextUpdate);
      } catch (error) {
        problems.push(`OCSP ${url}: ${describe(error)}`);
      }
    }

    for (const url of crlUrls(certificate)) {
      try {
        const crl = await this.#crl(url, issuer);
        const entry = crl.revoked(serial);
        const verdict: RevocationVerdict = entry
          ? revokedVerdict(subject, 'crl', entry.revokedAt, entry.reason, problems)
          : {
              accepted: true,
              status: 'good',
              source: 'crl',
              problems,
              detail: `"${subject}" is not on the CRL`,
            };
        return this.#remember(key, verdict, crl.nextUpdate);
      } catch (error) {
        problems.push(`CRL ${url}: ${describe(error)}`);
      }
    }

    if (problems.length === 0)
      problems.push('the certificate names no OCSP responder and no CRL distribution point');
    const unavailable: RevocationVerdict = {
      accepted: this.#failOpen,
      status: 'unavailable',
      source: 'none',
      problems,
      detail: `revocation status of "${subject}" is unavailable (${problems.join('; ')}); ${this.#failOpen ? 'accepted: this deployment fails open' : 'refused: fail-closed'}`,
    };
    const until = this.#clock.now().getTime() + this.#unavailableCacheMilliseconds;
    const remembered = { ...unavailable, validUntil: new Date(until) };
    if (this.#unavailableCacheMilliseconds > 0) this.#answers.set(key, { value: remembered, until });
    return remembered;
  }

  async #crl(url: string, issuer: x509.X509Certificate): Promise<VerifiedCrl> {
    const issuerKey = createHash('sha256').update(new Uint8Array(issuer.publicKey.rawData)).digest('hex');
    const cacheKey = `${issuerKey} ${url}`;
    const now = this.#clock.now().getTime();
    const cached = this.#crls.get(cacheKey);
    if (cached && cached.until > now) return cached.value;
    const crl = await readCrl(await this.#fetchers.crl(url), issuer, { clock: this.#clock });
    this.#crls.set(cacheKey, { value: crl, until: this.#until(crl.nextUpdate) });
    return crl;
  }

  #until(nextUpdate: Date | undefined): number {
    const now = this.#clock.now().getTime();
    const cap = now + this.#maxCacheMilliseconds;
    return nextUpdate ? Math.min(nextUpdate.getTime(), cap) : now; // no nextUpdate: not cached
  }

  #remember(key: string, verdict: RevocationVerdict, nextUpdate: Date | undefined): RevocationVerdict {
    const until = this.#until(nextUpdate);
    const remembered = { ...verdict, validUntil: new Date(until) };
    this.#answers.set(key, { value: remembered, until });
    return remembered;
  }
}

function revokedVerdict(
  subject: string,
  source: 'ocsp' | 'crl',
  revokedAt: Date,
  reason: RevocationReason | undefined,
  problems: string[],
): RevocationVerdict {
  return {
    accepted: false,
    status: 'revoked',
    source,
    revokedAt,
    ...(reason ? { reason } : {}),
    problems,
    detail: `"${subject}" was revoked on ${revokedAt.toISOString()}${reason ? ` (${reason})` : ''} according to its ${source === 'ocsp' ? 'OCSP responder' : 'CRL'}`,
  };
}

function ocspUrls(certificate: x509.X509Certificate): string[] {
  const access = certificate.getExtension(x509.AuthorityInfoAccessExtension);
  return (access?.ocsp ?? []).filter((name) => name.type === 'url').map((name) => name.value);
}

function crlUrls(certificate: x509.X509Certificate): string[] {
  const points = certificate.getExtension(x509.CRLDistributionPointsExtension)?.distributionPoints ?? [];
  const urls: string[] = [];
  for (const point of points) {
    for (const name of point.distributionPoint?.fullName ?? []) {
      if (name.uniformResourceIdentifier) urls.push(name.uniformResourceIdentifier);
    }
  }
  return urls;
}

/** Fetchers over HTTP(S) with a timeout and a size limit: the production default. */
export function httpRevocationFetchers(
  options: {
    timeoutMs?: number;
    maxBytes?: number;
    /** A fetch that trusts the responders' TLS (e.g. a sandbox CA); default the global fetch. */
    fetch?: typeof fetch;
  } = {},
): RevocationFetchers {
  const fetch = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
  const read = async (response: Response, url: string): Promise<Uint8Array> => {
    if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}`);
    const declared = Number(response.headers.get('content-length') ?? '0');
    if (declared > maxBytes) throw new Error(`${url} sent ${declared} bytes, more than ${maxBytes}`);
    const body = new Uint8Array(await response.arrayBuffer());
    if (body.byteLength > maxBytes) throw new Error(`${url} sent more than ${maxBytes} bytes`);
    return body;
  };
  return {
    async ocsp(url, requestDer) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' },
        body: requestDer,
        signal: AbortSignal.timeout(timeoutMs),
      });
      return read(response, url);
    },
    async crl(url) {
      return read(await fetch(url, { signal: AbortSignal.timeout(timeoutMs) }), url);
    },
  };
}
