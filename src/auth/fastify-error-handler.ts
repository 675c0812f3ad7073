import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  DATABASE_RETRY_AFTER_SECONDS,
  DATABASE_UNAVAILABLE,
  isDatabaseUnavailable,
} from '../shared/database-unavailable.ts';

/** What fastify hands an error handler: an error, maybe with the status it chose. */
export interface FastifyRefusal {
  statusCode?: number;
  message?: string;
}

/**
 * The error handler of the authorization server's fastify routes (the provider's and DCR's): whatever
 * fastify refuses before a handler runs, or a handler throws, answers in RFC 6749's error body, never the
 * Read/Write APIs' one. An unavailable database is `temporarily_unavailable` with a Retry-After (RFC 7591
 * names no code for it, RFC 6749's says what it is); any other fault is a logged `server_error` (`failure`
 * is the log line); a request fastify could not read is answered by `unreadable`, in the route's own terms.
 */
export function oauthErrorHandler(
  failure: string,
  unreadable: (
    error: FastifyRefusal,
    reply: FastifyReply,
    status: number,
  ) => FastifyReply | Promise<FastifyReply>,
): (
  error: FastifyRefusal,
  request: FastifyRequest,
  reply: FastifyReply,
) => FastifyReply | Promise<FastifyReply> {
  return (error, request, reply) => {
    const status = error.statusCode ?? 500;
    if (isDatabaseUnavailable(error)) {
      request.log.warn({ err: error }, 'the database is unavailable');
      return reply
        .code(503)
        .header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS))
        .header('cache-control', 'no-store')
        .send({ error: 'temporarily_unavailable', error_description: DATABASE_UNAVAILABLE });
    }
    if (status >= 500) {
      request.log.error({ err: error }, failure);
      return reply
        .code(500)
        .header('cache-control', 'no-store')
        .send({ error: 'server_error', error_description: 'an unexpected error occurred' });
    }
    return unreadable(error, reply, status);
  };
}
