import type { JSONWebKeySet } from 'jose';

/**
 * JWK Sets an instance reads itself instead of fetching them: those its own directory publishes, from the
 * database every instance shares, so that no instance depends on another (or on the load balancer in
 * front of them) being up to verify a signature. Undefined: not one of ours; fetch it.
 */
export type LocalJwks = (url: string) => Promise<JSONWebKeySet | undefined>;

/** Answers `fetch` calls for URLs `local` holds with their JWK Set (200, JSON); any other URL is fetched. */
export function localFirstFetch<F extends (url: URL | string, init?: never) => Promise<Response>>(
  local: LocalJwks,
  fetch: F,
): F {
  return (async (url: URL | string, init?: never) => {
    const held = await local(String(url));
    if (!held) return fetch(url, init);
    return new Response(JSON.stringify(held), {
      status: 200,
      headers: { 'content-type': 'application/jwk-set+json' },
    });
  }) as F;
}
