import { answerOcsp, generateCrl, type Issuer, type OcspResponderConfig } from '../pki/index.ts';
import type { Clock } from '../shared/clock.ts';
import type { DirectoryService } from './service.ts';

/** How long a CRL is valid (nextUpdate − thisUpdate); a fresh one is made after half of it, or on revocation. */
const crlValiditySeconds = 3600;
/** How long relying parties may cache an OCSP answer. */
const ocspValiditySeconds = 300;

/**
 * The directory's revocation publication: the issuing CA's CRL and its OCSP answers, both read from
 * the certificates table. The CRL is made again as soon as the set of revocations changes (so every
 * instance serves the same content) and at the latest after half its validity.
 */
export class RevocationPublisher {
  readonly #service: DirectoryService;
  readonly #clock: Clock;
  readonly #ocsp: OcspResponderConfig;
  readonly #issuer: Issuer;
  #crl: { der: Uint8Array; fingerprint: string; madeAt: number } | undefined;
  #lastCrlNumber = 0n;

  constructor(service: DirectoryService, issuer: Issuer, clock: Clock) {
    this.#service = service;
    this.#clock = clock;
    this.#issuer = issuer;
    this.#ocsp = { issuer, clock, validitySeconds: ocspValiditySeconds };
  }

  async ocsp(requestDer: Uint8Array): Promise<Uint8Array> {
    return answerOcsp(requestDer, (serial) => this.#service.revocationStatus(serial), this.#ocsp);
  }

  async crl(): Promise<Uint8Array> {
    const entries = await this.#service.revokedCertificates();
    const fingerprint = entries
      .map((entry) => `${entry.serialNumber}@${entry.revokedAt.getTime()}`)
      .join(',');
    const now = this.#clock.now().getTime();
    const cached = this.#crl;
    if (
      cached &&
      cached.fingerprint === fingerprint &&
      now - cached.madeAt < (crlValiditySeconds * 1000) / 2
    ) {
      return cached.der;
    }
    // The CRL number must grow with every new CRL (RFC 5280 §5.2.3): milliseconds since the epoch do,
    // across restarts and instances, without a counter to persist.
    const crlNumber = BigInt(now) > this.#lastCrlNumber ? BigInt(now) : this.#lastCrlNumber + 1n;
    this.#lastCrlNumber = crlNumber;
    const der = await generateCrl(this.#issuer, entries, {
      crlNumber,
      clock: this.#clock,
      validitySeconds: crlValiditySeconds,
    });
    this.#crl = { der, fingerprint, madeAt: now };
    return der;
  }
}
