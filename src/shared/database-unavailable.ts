/**
 * Whether an error means the database cannot be reached right now — down, restarting, refusing
 * connections, or a connection that broke mid-query — rather than a fault of ours or of the request. Such
 * a request is answered 503 with `Retry-After` in its family's error format (never 500): the client can
 * retry, and the instance recovers by itself once the database is back (the pool opens new connections).
 * Drizzle wraps the driver's error as `cause`; the whole chain is read.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth += 1) {
    if (typeof current !== 'object') return false;
    const { code, message, cause } = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || isUnavailableSqlState(code))) return true;
    if (typeof message === 'string' && BROKEN_CONNECTION_MESSAGES.some((text) => message.includes(text))) {
      return true;
    }
    current = cause;
  }
  return false;
}

/** What a client reads when the database cannot answer: nothing it did wrong, and worth a retry. */
export const DATABASE_UNAVAILABLE =
  'the service is temporarily unavailable; retry after the Retry-After delay';

/** Seconds a client is asked to wait before retrying (`Retry-After`): a restart takes about this long. */
export const DATABASE_RETRY_AFTER_SECONDS = 2;

/** Socket errors from connecting to, or talking with, the server. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs of a server that is going away or not yet back: class 08 (connection exception), 57P01
 * admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up), 53300 too_many_connections.
 */
function isUnavailableSqlState(code: string): boolean {
  return (
    code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300'
  );
}

/** node-postgres reports a dropped or never-made connection by message only. */
const BROKEN_CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Connection ended unexpectedly',
];
