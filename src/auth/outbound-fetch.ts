import type { PeerCertificate } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';
// oidc-provider's own guard against fetching special-use addresses (loopback, private, link-local, …):
// reused rather than re-implemented, so a custom CA does not cost the bank its SSRF protection.
import { applySSRFProtection } from 'oidc-provider/lib/helpers/fetch_request.js';

export type OutboundFetch = typeof fetch;

/**
 * The fetch the authorization server uses for what clients point it at (their `jwks_uri`): trusting `ca`
 * (PEM, replacing Node's defaults — include them), and refusing special-use addresses unless
 * `allowPrivateAddresses` (a directory on an internal network, tests).
 */
export function outboundFetch(options: { ca: string; allowPrivateAddresses: boolean }): {
  fetch: OutboundFetch;
  close(): Promise<void>;
} {
  const agent = outboundAgent(options);
  const fetch = ((url: string | URL, init?: object) =>
    undiciFetch(url, { ...init, dispatcher: agent } as never)) as unknown as OutboundFetch;
  return { fetch, close: () => agent.close() };
}

/**
 * An undici agent for requests to addresses a client gave the bank (its `jwks_uri`, its event callback):
 * trusting `ca`, presenting `identity` (the bank's TLS client certificate and key) to a server that asks for
 * one, and refusing special-use addresses unless `allowPrivateAddresses`. `checkServerIdentity` replaces
 * the RFC 6125 host name check (Node's `tls.checkServerIdentity`) for a caller that knows whom to expect.
 */
export function outboundAgent(options: {
  ca: string | string[];
  allowPrivateAddresses: boolean;
  identity?: { cert: string; key: string } | undefined;
  checkServerIdentity?: (hostname: string, certificate: PeerCertificate) => Error | undefined;
}): Agent {
  const agent = new Agent({
    connect: {
      ca: options.ca,
      ...(options.identity ?? {}),
      ...(options.checkServerIdentity ? { checkServerIdentity: options.checkServerIdentity } : {}),
    },
  });
  if (!options.allowPrivateAddresses) applySSRFProtection(agent);
  return agent;
}
