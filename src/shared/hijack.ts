import type { FastifyReply } from 'fastify';

/**
 * `reply.hijack()`, for an answer then written on the raw response by another framework (oidc-provider, the
 * consent bridge): the headers the hooks set on the reply — the interaction id, the rate-limit fields —
 * are copied onto the raw response, so they reach that answer too. Hooks set headers on the reply only:
 * one set on the raw response as well sends every fastify answer down node's slower `writeHead` path,
 * which validates each header twice (bench/README.md, session 13).
 */
export function hijackKeepingHeaders(reply: FastifyReply): void {
  reply.hijack();
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined) reply.raw.setHeader(name, value);
  }
}
