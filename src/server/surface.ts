import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { createServer, type Server, type ServerOptions } from 'node:https';
import type { Socket } from 'node:net';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { ObError, obErrorBody, obErrorBodyFor } from '../openbanking/errors.ts';
import { attachCertificateVerdict } from '../shared/client-certificate.ts';
import { ChangesOutpacedRequest } from '../shared/deferred-change-version.ts';
import { doneWhenSettled, thenOrNow, type MaybePromise } from '../shared/maybe-promise.ts';
import {
  DATABASE_RETRY_AFTER_SECONDS,
  DATABASE_UNAVAILABLE,
  isDatabaseUnavailable,
} from '../shared/database-unavailable.ts';
import type { Store } from '../store/index.ts';
import type { ChangeVersion } from './change-version.ts';
import type { CertificateOutcome, ClientCertificateResolver } from './client-certificate.ts';
import { requestLoggerFactory, type Logger } from './logger.ts';
import { rateLimitCounter, type SurfaceRateLimits } from './rate-limits.ts';

/**
 * An HTTP surface is one HTTPS listener with the plumbing every part relies on: the FAPI interaction id,
 * JSON logs, OB error bodies, liveness and readiness. `browser` never asks for a client certificate;
 * `mtls` requires a trusted one on every route except those that opt out; `operator` is the bank's own
 * staff's (console, metrics), on a port of its own that neither TPPs nor customers are given.
 */
export type SurfaceKind = 'browser' | 'mtls' | 'operator';

export interface TlsMaterial {
  key: string;
  /** The server certificate followed by its intermediates. */
  cert: string;
  /** PEM trust anchors for client certificates (mTLS listener only). */
  ca: string[];
}

export interface SurfaceOptions {
  kind: SurfaceKind;
  tls: TlsMaterial;
  logger: Logger;
  store: Store;
  /** Required for `mtls`. */
  clientCertificates?: ClientCertificateResolver;
  bodyLimit?: number;
  /** Request rate limits, counted after the client certificate is known and before anything else. */
  rateLimits?: SurfaceRateLimits;
  /** Rewrites each request's URL once, before routing (e.g. the Read/Write APIs' trailing slashes). */
  rewriteUrl?: (url: string) => string;
  /** Read at the start of every request but liveness and readiness, before any cache is asked. */
  changeVersion?: ChangeVersion;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** On the mTLS surface, a route that works without a client certificate (e.g. discovery documents). */
    clientCertificate?: 'required' | 'optional';
  }
}

const INTERACTION_ID = 'x-fapi-interaction-id';
/** Echo what the TPP sent when it is a safe header token; RFC 4122 UUIDs are what FAPI asks for. */
const SAFE_INTERACTION_ID = /^[A-Za-z0-9._~:-]{1,128}$/;
const ALWAYS_OPEN = new Set(['/health', '/ready']);
/** Paths whose errors are `{ error, error_description }` (RFC 6749 §5.2, RFC 7591 §3.2.2), not OB bodies. */
const RFC6749_SHAPED = ['/register', '/token', '/par', '/backchannel', '/directory/v1/', '/jwkms/v1/'];

export function interactionIdOf(request: FastifyRequest): string {
  return request.id;
}

/**
 * Told of every answer of a surface: `sent` when its headers are handed to node (fastify's onSend: not for a
 * hijacked reply, which writes itself), `answered` when it is over (onResponse: every answer).
 */
export interface AnswerObserver {
  sent(request: FastifyRequest, reply: FastifyReply): void;
  answered(request: FastifyRequest, reply: FastifyReply): void;
}

export interface Surface {
  readonly kind: SurfaceKind;
  readonly app: FastifyInstance;
  readonly server: Server;
  /**
   * Tells `observer` of every answer from the surface's own onSend and onResponse hooks (one observer; a
   * hook of its own would be a turn of fastify's hook runner per request and phase).
   */
  observeAnswers(observer: AnswerObserver): void;
  /** Binds the port (0 picks a free one) and returns it; routes may still be added until `ready`. */
  listen(host: string, port: number): Promise<number>;
  ready(): Promise<void>;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes the parts. */
  close(graceMs?: number): Promise<void>;
}

export async function createSurface(options: SurfaceOptions): Promise<Surface> {
  const { kind, tls, logger, store, rewriteUrl: rewrite } = options;
  const https: ServerOptions = {
    key: tls.key,
    cert: tls.cert,
    minVersion: 'TLSv1.2',
    ...(kind === 'mtls'
      ? // The handshake asks for a certificate but does not abort without one: the refusal is an HTTP
        // answer a TPP developer can read, and load balancers can still probe /health.
        { requestCert: true, rejectUnauthorized: false, ca: tls.ca }
      : {}),
  };

  // Typed as a plain FastifyInstance so that every part's plugin registers without server generics.
  let server: Server | undefined;
  let isReady = false;
  const app: FastifyInstance = Fastify({
    // We own the server so that it can listen before parts mount (they need the bound port for their
    // URLs) and so that shutdown can drain it.
    serverFactory: (handler) => {
      // Between listen and ready the routes are still being added: answer 503 rather than reach fastify.
      server = createServer(https, (request, response) => {
        if (isReady) return handler(request, response);
        response.writeHead(503, { 'retry-after': '1', 'content-type': 'application/json' });
        response.end('{"status":"starting"}');
      });
      // Longer than common load balancers' idle timeout, so they, not we, close idle connections.
      server.keepAliveTimeout = 65_000;
      return server;
    },
    loggerInstance: logger.child({ surface: kind }) as FastifyBaseLogger,
    childLoggerFactory: requestLoggerFactory,
    bodyLimit: options.bodyLimit ?? 1_048_576,
    genReqId: (request) => {
      const sent = request.headers[INTERACTION_ID];
      return typeof sent === 'string' && SAFE_INTERACTION_ID.test(sent) ? sent : randomUUID();
    },
    logController: new LogController({ requestIdLogLabel: 'interactionId' }),
    return503OnClosing: true,
    // A request node cannot parse (headers too large, a malformed request line) never reaches a route: it
    // still gets a readable answer with an interaction id, and the log says why.
    clientErrorHandler: (error: Error & { code?: string }, socket: Socket) => {
      if (error.code === 'ECONNRESET' || socket.destroyed) return;
      const interactionId = randomUUID();
      const status =
        error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      logger.info(
        { surface: kind, interactionId, code: error.code, status },
        'refused a request that could not be parsed',
      );
      if (socket.writable) {
        const body = JSON.stringify(
          obErrorBody(
            ObError.single(status, 'UK.OBIE.Header.Invalid', STATUS_CODES[status] ?? 'Bad Request'),
            interactionId,
          ),
        );
        socket.end(
          `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\n` +
            `content-length: ${Buffer.byteLength(body)}\r\n${INTERACTION_ID}: ${interactionId}\r\n` +
            `connection: close\r\n\r\n${body}`,
        );
      }
      socket.destroySoon();
    },
    routerOptions: { ignoreTrailingSlash: false },
    ...(rewrite ? { rewriteUrl: (request: { url?: string }) => rewrite(request.url ?? '/') } : {}),
    // A malformed URL or an over-long path parameter is the client's mistake: an OB error body, not fastify's.
    // At the OAuth endpoints, DCR, the directory's API and JWKms, the RFC 6749 §5.2 shape those share.
    frameworkErrors: (error, request, reply) => {
      const status = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : 400;
      const answer = (reply as FastifyReply).status(status).header(INTERACTION_ID, request.id);
      if (RFC6749_SHAPED.some((prefix) => (request.url ?? '').startsWith(prefix))) {
        return answer.header('cache-control', 'no-store').send({
          error: 'invalid_request',
          error_description: status === 414 ? 'a path segment is too long' : 'the request URL cannot be read',
        });
      }
      return answer.send(
        obErrorBodyFor(
          ObError.single(
            status,
            'UK.OBIE.Resource.InvalidFormat',
            status === 414 ? 'a path segment is too long' : 'the request URL cannot be read',
          ),
          { url: request.url ?? '/', id: request.id },
        ),
      );
    },
  }) as unknown as FastifyInstance;

  const resolver = options.clientCertificates;
  if (kind === 'mtls' && !resolver) throw new Error('the mtls surface needs a client certificate resolver');
  /**
   * Whether the request's client certificate is trusted, and acceptable for its route (mtls only). At once
   * (no promise) when the connection's verdict and the certificate's status are kept.
   */
  const checkClientCertificate = (request: FastifyRequest): MaybePromise<void> =>
    resolver
      ? thenOrNow(resolver.resolve(request), (outcome) => acceptCertificate(request, outcome))
      : undefined;
  const acceptCertificate = (request: FastifyRequest, outcome: CertificateOutcome): void => {
    attachCertificateVerdict(
      request.raw,
      outcome.ok
        ? { trusted: true, certificate: outcome.certificate }
        : {
            trusted: false,
            reason: outcome.reason,
            detail: outcome.detail,
            ...(outcome.presented ? { presented: outcome.presented } : {}),
          },
    );
    if (
      outcome.ok ||
      ALWAYS_OPEN.has(request.url) ||
      request.routeOptions.config.clientCertificate === 'optional'
    ) {
      return;
    }
    request.log.info({ reason: outcome.reason }, 'client certificate refused');
    throw ObError.single(
      401,
      outcome.reason === 'missing' ? 'UK.OBIE.Header.Missing' : 'UK.OBIE.Header.Invalid',
      outcome.detail,
    );
  };

  const changeVersion = options.changeVersion;
  /**
   * The store's change version for this request, first, so that what another instance revoked before this
   * request began is never served from a cache: read now, or (a route reading it in its own statement, on
   * PostgreSQL) taken as this instance last read it and checked again if the route's statement saw a newer
   * one. Nothing to read on the embedded database (every write passes through this process): no step.
   */
  const readChangeVersion =
    changeVersion?.readsPerRequest === true
      ? (request: FastifyRequest): MaybePromise<void> => {
          // Under a cache lease this instance has heard every change announced so far: nothing to read.
          if (ALWAYS_OPEN.has(request.url) || changeVersion.upToDate()) return undefined;
          if (
            changeVersion.deferrable &&
            request.routeOptions.config.changeVersion === 'read by the handler'
          ) {
            // Read by the route's own statement; checked again here if it turns out newer.
            let checkedUnder = changeVersion.current();
            request.deferredChangeVersion = {
              get checkedUnder() {
                return checkedUnder;
              },
              async advance(version) {
                changeVersion.observe(version);
                checkedUnder = Math.max(checkedUnder, version);
                await checkClientCertificate(request);
              },
            };
            return undefined;
          }
          return changeVersion.refresh();
        }
      : undefined;

  // The rate limit: counted after the client certificate (an mTLS client is known by it), before anything
  // else. The operator listener is counted as a browser one: per address, its login steps throttled.
  const countRequest = options.rateLimits
    ? rateLimitCounter(kind === 'mtls' ? 'mtls' : 'browser', options.rateLimits, (request) =>
        ALWAYS_OPEN.has(request.url),
      )
    : undefined;
  const certificateStep = kind === 'mtls' ? checkClientCertificate : undefined;
  /** The change version, then (mtls) the client certificate: at once when both answer at once. */
  const checkRequest: ((request: FastifyRequest) => MaybePromise<void>) | undefined =
    readChangeVersion && certificateStep
      ? (request) => thenOrNow(readChangeVersion(request), () => certificateStep(request))
      : (readChangeVersion ?? certificateStep);

  // The surface's own steps on every request, in this order, as one hook (a hook is a turn of fastify's
  // hook runner per request): the interaction id on the answer, the change version, then (mtls) the client
  // certificate, then the rate limit. Synchronous work takes fastify's callback form: an async hook costs a
  // promise, its resolution tick and the promise hooks on every request; a step that answers at once is
  // followed by the next in the same tick. A step that refuses ends the request: an error to `done`, or the
  // rate limit's 429 answered without calling it.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(INTERACTION_ID, request.id);
    doneWhenSettled(
      () => checkRequest?.(request),
      (error) => {
        if (error) done(error);
        else if (countRequest) countRequest(request, reply, done);
        else done();
      },
    );
  });

  // What else is told of every answer (the mTLS surface's request recording), run inside the surface's own
  // onSend and onResponse hooks rather than as hooks of its own (observeAnswers).
  let observer: AnswerObserver | undefined;

  // Whatever answered it (a handler, an error handler, the provider behind a hijacked reply), a 5xx is
  // ours to look into: logged at error level, with the interaction id the client was given.
  app.addHook('onResponse', (request, reply, done) => {
    if (reply.statusCode >= 500) {
      request.log.error(
        { status: reply.statusCode, method: request.method, path: request.url.split('?')[0] },
        'answered with a server error',
      );
    }
    observer?.answered(request, reply);
    done();
  });

  app.setErrorHandler((error: FastifyError | ObError, request, reply) => {
    if (error instanceof ObError) {
      return reply.status(error.status).send(obErrorBodyFor(error, request));
    }
    const outpaced = error instanceof ChangesOutpacedRequest;
    if (outpaced || isDatabaseUnavailable(error)) {
      request.log.warn(
        { err: error },
        outpaced ? 'changes outpaced the request' : 'the database is unavailable',
      );
      reply.status(503).header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
      if (RFC6749_SHAPED.some((prefix) => request.url.startsWith(prefix))) {
        return reply
          .header('cache-control', 'no-store')
          .send({ error: 'temporarily_unavailable', error_description: DATABASE_UNAVAILABLE });
      }
      return reply.send(
        obErrorBodyFor(ObError.single(503, 'UK.OBIE.UnexpectedError', DATABASE_UNAVAILABLE), request),
      );
    }
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return reply
        .status(500)
        .send(
          obErrorBodyFor(
            ObError.single(500, 'UK.OBIE.UnexpectedError', 'an unexpected error occurred'),
            request,
          ),
        );
    }
    const code = error.validation ? 'UK.OBIE.Field.Invalid' : 'UK.OBIE.Resource.InvalidFormat';
    return reply.status(status).send(obErrorBodyFor(ObError.single(status, code, error.message), request));
  });

  // Which methods each path pattern answers, so that a known path asked with another method gets the
  // 405 the OB specifications name, not a 404.
  const routes: { pattern: RegExp; methods: Set<string> }[] = [];
  app.addHook('onRoute', (route) => {
    const pattern = routePattern(route.url ?? route.path);
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const known = routes.find((entry) => entry.pattern.source === pattern.source);
    if (known) methods.forEach((method) => known.methods.add(method));
    else routes.push({ pattern, methods: new Set(methods) });
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = routes.filter((entry) => entry.pattern.test(path)).flatMap((entry) => [...entry.methods]);
    if (allowed.length > 0) {
      const methods = [...new Set(allowed)].filter((method) => method !== 'HEAD').sort();
      return reply
        .status(405)
        .header('allow', methods.join(', '))
        .send(
          obErrorBodyFor(
            ObError.single(
              405,
              'UK.OBIE.UnexpectedError',
              `${request.method} is not allowed on ${path}; use ${methods.join(' or ')}`,
            ),
            request,
          ),
        );
    }
    return reply
      .status(404)
      .send(
        obErrorBodyFor(
          ObError.single(404, 'UK.OBIE.Resource.NotFound', `no resource at ${request.method} ${path}`),
          request,
        ),
      );
  });

  // Set when close() begins: /ready then answers 503 so that a load balancer stops sending work here.
  let closing = false;
  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/ready', async (_request, reply) => {
    if (closing) return reply.status(503).send({ status: 'draining', database: store.backend });
    try {
      await store.ping();
      return { status: 'ready', database: store.backend };
    } catch {
      return reply
        .status(503)
        .header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS))
        .send({ status: 'unavailable', database: store.backend });
    }
  });

  if (!server) throw new Error('fastify did not create the https server');
  const httpsServer: Server = server;
  app.addHook('onSend', (request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    observer?.sent(request, reply);
    done(null, payload);
  });

  return {
    kind,
    app,
    server: httpsServer,
    observeAnswers(added) {
      if (observer) throw new Error(`the ${kind} surface's answers are observed already`);
      observer = added;
    },
    async listen(host, port) {
      await new Promise<void>((resolve, reject) => {
        httpsServer.once('error', reject);
        httpsServer.listen(port, host, () => {
          httpsServer.off('error', reject);
          resolve();
        });
      });
      const address = httpsServer.address();
      return typeof address === 'object' && address ? address.port : port;
    },
    async ready() {
      await app.ready();
      isReady = true;
    },
    async close(graceMs = 10_000) {
      closing = true;
      if (httpsServer.listening) {
        // New connections are refused (a proxy tries its next upstream, safe even for a POST); a request
        // on a kept-alive connection is answered with `Connection: close`; idle ones are closed. HTTP/1.1
        // cannot close an idle connection without a race: a proxy that writes a request onto it in the
        // same instant sees it reset, and retries it only if idempotent (test/cluster/graceful-drain.test.ts).
        const drained = new Promise<void>((resolve) => httpsServer.close(() => resolve()));
        const sweep = setInterval(() => httpsServer.closeIdleConnections(), 50);
        const deadline = setTimeout(() => httpsServer.closeAllConnections(), graceMs);
        httpsServer.closeIdleConnections();
        await drained;
        clearInterval(sweep);
        clearTimeout(deadline);
      }
      await app.close();
    },
  };
}

/** A fastify route path (`/accounts/:AccountId/balances`, `*` wildcards) as a matcher for concrete paths. */
function routePattern(path: string): RegExp {
  const source = path
    .split('/')
    .map((segment) =>
      segment.startsWith(':')
        ? '[^/]+'
        : segment === '*'
          ? '.*'
          : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/');
  return new RegExp(`^${source}$`);
}
