import type { FastifyBaseLogger } from 'fastify';
import { pino, type Bindings, type ChildLoggerOptions, type Level, type Logger } from 'pino';
import type { Config } from './config.ts';

export type { Logger };

/** JSON logs; credentials and personal data in headers never reach them. */
export function createLogger(config: Pick<Config, 'logLevel'>, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { service: 'obkit' },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'req.headers["client-cert"]',
          'req.headers["x-jws-signature"]',
          'res.headers["set-cookie"]',
          '*.password',
          '*.privateKey',
          '*.client_secret',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

/**
 * Fastify's `childLoggerFactory` for a surface: each request's logger (`request.log`, bound to its
 * x-fapi-interaction-id) is made on its first line at an enabled level, not for every request. pino makes a
 * child by serialising its bindings through the redaction (the wildcard paths above apply to every key):
 * ~1–2 µs per request (bench/README.md, session 13). At `info`, fastify's own request lines make it on
 * every request still; at `warn` and above a request that writes nothing makes none. What is written is
 * what the child would write: same bindings, same level.
 */
export function requestLoggerFactory(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  // A route's own log level or serializers, or a logger that is not pino's: made at once, as fastify would.
  return Object.keys(options).length > 0 || !isPino(logger)
    ? logger.child(bindings, options)
    : new RequestLogger(logger, bindings);
}

/** Fastify's own logger is a pino child of the one it was given (with its request serializers). */
function isPino(logger: FastifyBaseLogger): logger is Logger {
  return typeof (logger as Partial<Logger>).isLevelEnabled === 'function';
}

class RequestLogger implements FastifyBaseLogger {
  readonly #parent: Logger;
  readonly #bindings: Bindings;
  #child: Logger | undefined;

  constructor(parent: Logger, bindings: Bindings) {
    this.#parent = parent;
    this.#bindings = bindings;
  }

  #made(): Logger {
    return (this.#child ??= this.#parent.child(this.#bindings));
  }

  #write(level: Level, args: unknown[]): void {
    const logger = this.#child ?? this.#parent;
    if (!logger.isLevelEnabled(level)) return;
    const made = this.#made();
    (made[level] as (...args: unknown[]) => void).apply(made, args);
  }

  get level(): string {
    return (this.#child ?? this.#parent).level;
  }
  set level(level: string) {
    this.#made().level = level;
  }
  fatal(...args: unknown[]): void {
    this.#write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.#write('error', args);
  }
  warn(...args: unknown[]): void {
    this.#write('warn', args);
  }
  info(...args: unknown[]): void {
    this.#write('info', args);
  }
  debug(...args: unknown[]): void {
    this.#write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.#write('trace', args);
  }
  silent(): void {}
  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#made().child(bindings, options);
  }
}
