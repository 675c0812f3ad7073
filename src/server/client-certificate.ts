import { X509Certificate } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import {
  attachClientCertificate,
  clientCertificateOf,
  describeClientCertificate,
  type ClientCertificate,
} from '../shared/client-certificate.ts';
import { ChainValidationError, validateChain } from '../pki/index.ts';
import { thenOrNow, type MaybePromise } from '../shared/maybe-promise.ts';
import type { CertificateStatusGate } from './certificate-status.ts';

/**
 * Where the client certificate comes from. `direct`: the TLS handshake of our own listener (node has
 * verified it against the trust anchors). `proxy`: a TLS-terminating load balancer passes it in a header
 * (RFC 9440 `Client-Cert` by default); the header is believed only from a configured proxy address, and
 * the certificate is then verified here against the same trust anchors.
 */
export type ClientCertificateMode =
  { mode: 'direct' } | { mode: 'proxy'; trustedProxies: readonly string[]; header: string };

export type CertificateOutcome =
  | { ok: true; certificate: ClientCertificate }
  | {
      ok: false;
      reason: 'missing' | 'untrusted' | 'malformed' | 'revoked';
      detail: string;
      presented?: X509Certificate;
    };

export interface ClientCertificateResolver {
  /** At once when the connection's (or header's) verdict and the certificate's status are kept. */
  resolve(request: FastifyRequest): MaybePromise<CertificateOutcome>;
}

/**
 * The chain is verified once per connection (direct) or per header value (proxy); the certificate's
 * status (`status`) on every request, from its own cache, so a revocation holds on open connections too.
 * Only a certificate that passes both is attached to the request.
 */
export function createClientCertificateResolver(
  mode: ClientCertificateMode,
  trustAnchors: readonly X509Certificate[],
  now: () => Date,
  status?: CertificateStatusGate,
): ClientCertificateResolver {
  const chain = mode.mode === 'direct' ? directResolver() : proxyResolver(mode, trustAnchors, now);
  const withStatus = (
    request: FastifyRequest,
    outcome: CertificateOutcome,
  ): MaybePromise<CertificateOutcome> => {
    if (!outcome.ok || !status) {
      if (outcome.ok) attachClientCertificate(request.raw, outcome.certificate);
      return outcome;
    }
    return thenOrNow(status.check(outcome.certificate), (verdict): CertificateOutcome => {
      if (!verdict.accepted) {
        return {
          ok: false,
          reason: verdict.revoked ? 'revoked' : 'untrusted',
          detail: `the client certificate was refused: ${verdict.detail}`,
          presented: outcome.certificate.x509,
        };
      }
      attachClientCertificate(request.raw, outcome.certificate);
      return outcome;
    });
  };
  return {
    resolve: (request) => thenOrNow(chain.resolve(request), (outcome) => withStatus(request, outcome)),
  };
}

/** keep-alive: a connection's certificate is parsed once, not per request. */
const perSocket = new WeakMap<TLSSocket, CertificateOutcome>();

function directResolver(): ClientCertificateResolver {
  return {
    resolve(request) {
      const socket = request.raw.socket as TLSSocket;
      let outcome = perSocket.get(socket);
      if (!outcome) {
        outcome = fromTlsSocket(socket);
        perSocket.set(socket, outcome);
      }
      return outcome;
    },
  };
}

function fromTlsSocket(socket: TLSSocket): CertificateOutcome {
  if (typeof socket.getPeerX509Certificate !== 'function') {
    return { ok: false, reason: 'missing', detail: 'the connection is not TLS' };
  }
  const peer = socket.getPeerX509Certificate();
  if (!peer) return { ok: false, reason: 'missing', detail: 'no client certificate was presented' };
  if (!socket.authorized) {
    return {
      ok: false,
      reason: 'untrusted',
      detail: `the client certificate is not trusted: ${String(socket.authorizationError ?? 'unknown reason')}`,
      presented: peer,
    };
  }
  return { ok: true, certificate: describeClientCertificate(peer, 'tls') };
}

function proxyResolver(
  mode: Extract<ClientCertificateMode, { mode: 'proxy' }>,
  trustAnchors: readonly X509Certificate[],
  now: () => Date,
): ClientCertificateResolver {
  const isTrustedProxy = trustedProxyMatcher(mode.trustedProxies);
  // A proxy sends the same certificate on every request of a TPP: a verdict is reused for a while.
  const verdicts = new Map<string, { outcome: CertificateOutcome; until: number }>();
  return {
    async resolve(request) {
      const fromProxy = isTrustedProxy(request.raw.socket.remoteAddress ?? '');
      const header = request.headers[mode.header];
      // From anyone but the proxy the header is ignored, as if absent: a client cannot claim a certificate.
      if (!fromProxy || header === undefined) {
        return { ok: false, reason: 'missing', detail: 'no client certificate was presented' };
      }
      const value = Array.isArray(header) ? (header[0] ?? '') : header;
      const at = now().getTime();
      let cached = verdicts.get(value);
      if (!cached || cached.until <= at) {
        const outcome = await verifyHeaderCertificate(value, mode.header, trustAnchors, now);
        cached = { outcome, until: at + VERDICT_TTL_MS };
        if (verdicts.size >= MAX_VERDICTS) verdicts.delete(verdicts.keys().next().value ?? '');
        verdicts.set(value, cached);
      }
      return cached.outcome;
    },
  };
}

const VERDICT_TTL_MS = 60_000;
const MAX_VERDICTS = 10_000;

async function verifyHeaderCertificate(
  value: string,
  header: string,
  trustAnchors: readonly X509Certificate[],
  now: () => Date,
): Promise<CertificateOutcome> {
  const parsed = parseCertificateHeader(value);
  if (!parsed) return { ok: false, reason: 'malformed', detail: `the ${header} header is not a certificate` };
  try {
    await validateChain(parsed, {
      trustAnchors: [...trustAnchors],
      purpose: 'clientAuth',
      clock: { now, epochMs: () => now().getTime() },
    });
  } catch (error) {
    if (error instanceof ChainValidationError) {
      return {
        ok: false,
        reason: 'untrusted',
        detail: `the client certificate is not trusted: ${error.message}`,
        presented: parsed,
      };
    }
    return { ok: false, reason: 'malformed', detail: `the ${header} header is not a usable certificate` };
  }
  return { ok: true, certificate: describeClientCertificate(parsed, 'proxy-header') };
}

/** An IPv4 address as itself, also when the socket reports it IPv4-mapped (`::ffff:10.0.0.1`). */
export function normaliseAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** Whether an address (as a socket reports it) is one of the configured proxies (addresses or CIDR blocks). */
export function trustedProxyMatcher(trustedProxies: readonly string[]): (address: string) => boolean {
  const trusted = new BlockList();
  for (const entry of trustedProxies) {
    const [address = '', prefix] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) trusted.addAddress(address, family);
    else trusted.addSubnet(address, Number(prefix), family);
  }
  return (address) => {
    const peer = normaliseAddress(address);
    return isIP(peer) !== 0 && trusted.check(peer, isIP(peer) === 6 ? 'ipv6' : 'ipv4');
  };
}

/**
 * RFC 9440: a structured-field byte sequence, `:base64(DER):`. Proxies that predate it send the PEM
 * URL-encoded (nginx `$ssl_client_escaped_cert`); both are accepted.
 */
export function parseCertificateHeader(value: string): X509Certificate | undefined {
  const text = value.trim();
  try {
    if (text.startsWith(':') && text.endsWith(':') && text.length > 2) {
      return new X509Certificate(Buffer.from(text.slice(1, -1), 'base64'));
    }
    const pem = text.includes('%') ? decodeURIComponent(text) : text;
    if (pem.includes('-----BEGIN CERTIFICATE-----')) return new X509Certificate(pem);
  } catch {
    return undefined;
  }
  return undefined;
}

export { clientCertificateOf };
