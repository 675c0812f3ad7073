import type { X509Certificate } from 'node:crypto';
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * The TLS client certificate a request came with, after the server has verified it against the trust
 * anchors: from the socket (direct mTLS) or from a trusted proxy's header (proxy mode). Every part reads
 * it through `clientCertificateOf`, never from the socket, so both modes behave the same.
 */
export interface ClientCertificate {
  readonly x509: X509Certificate;
  /** DER bytes, base64url SHA-256: the RFC 8705 `x5t#S256` confirmation value. */
  readonly thumbprintS256: string;
  readonly pem: string;
  /** How it reached us: the TLS handshake, or a header set by a trusted proxy. */
  readonly source: 'tls' | 'proxy-header';
}

/**
 * Where a request's certificate and verdict are kept: properties under symbols of this module (no input
 * reaches them), not `WeakMap`s — an entry of a `WeakMap` keyed by a fresh object per request costs its
 * insertion and the collector's ephemeron work, ~0.3 µs a request for the two (bench/README.md, AIS read
 * path, session 16); a property added in the same order on every request keeps one object shape.
 */
const certificateKey = Symbol('obkit client certificate');
const verdictKey = Symbol('obkit client certificate verdict');
interface Attached {
  [certificateKey]?: ClientCertificate;
  [verdictKey]?: CertificateVerdict;
}

export function describeClientCertificate(
  x509: X509Certificate,
  source: ClientCertificate['source'],
): ClientCertificate {
  return {
    x509,
    thumbprintS256: createHash('sha256').update(x509.raw).digest('base64url'),
    pem: x509.toString(),
    source,
  };
}

export function attachClientCertificate(request: IncomingMessage, certificate: ClientCertificate): void {
  (request as IncomingMessage & Attached)[certificateKey] = certificate;
}

/** The verified client certificate of this request, or undefined when none was presented or trusted. */
export function clientCertificateOf(request: IncomingMessage): ClientCertificate | undefined {
  return (request as IncomingMessage & Attached)[certificateKey];
}

/**
 * The mTLS surface's verdict on what the client presented, kept for diagnostics (the JWKms "test my
 * mTLS" endpoint reports an untrusted certificate instead of refusing it). Authorisation decisions use
 * `clientCertificateOf`, which only ever returns a trusted certificate.
 */
export type CertificateVerdict =
  | { trusted: true; certificate: ClientCertificate }
  | {
      trusted: false;
      reason: 'missing' | 'untrusted' | 'malformed' | 'revoked';
      detail: string;
      presented?: X509Certificate;
    };

export function attachCertificateVerdict(request: IncomingMessage, verdict: CertificateVerdict): void {
  (request as IncomingMessage & Attached)[verdictKey] = verdict;
}

export function certificateVerdictOf(request: IncomingMessage): CertificateVerdict | undefined {
  return (request as IncomingMessage & Attached)[verdictKey];
}
