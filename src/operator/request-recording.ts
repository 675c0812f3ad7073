import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../shared/clock.ts';
import type { MiRecorder, MiSeries } from './mi/recorder.ts';
import type { OperatorMetrics, RequestSeries } from './metrics/registry.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Milliseconds from the request to the moment its answer's headers were handed to node (onSend). */
    firstByteMs: number;
    /**
     * What the request's route records into, set as its route's handler starts (`recordRequests`); null
     * when no route matched, for a route added before the recording was installed, or when the request was
     * answered before its handler (a refused certificate, a guard's refusal).
     */
    routeRecording: RouteRecording | null;
  }
}

/** A Read/Write API route: `/open-banking/v3.1/aisp/…`; OB MI reports major.minor versions. */
const API_ROUTE = /^\/open-banking\/(v\d+\.\d+)(\/.*)$/;
const UNMATCHED = '(unmatched)';

/** What one route records into: looked up once per route, so a request allocates no label strings. */
export interface RouteRecording {
  metrics: RequestSeries;
  mi: MiSeries | undefined;
}

/**
 * What records a surface's answers, told of each by the surface (`Surface.observeAnswers`, or an onSend and
 * an onResponse hook): `sent` when its headers are handed to node, `answered` when it is over.
 */
export interface RequestRecorder {
  sent(request: FastifyRequest, reply: FastifyReply): void;
  answered(request: FastifyRequest, reply: FastifyReply): void;
}

/**
 * Records every answer of a surface (the mutual-TLS one: token, registration, the Read/Write APIs) into the
 * instance's Prometheus metrics, by route pattern (never the raw URL: bounded label values), and the Read/Write
 * API calls into the MI recorder (in memory; flushed to the database in batches). Installed before the parts
 * mount, so every route they add is recorded; the recorder returned must be told of every answer.
 */
export function recordRequests(
  app: FastifyInstance,
  recording: { metrics: OperatorMetrics; mi: MiRecorder; clock: Clock },
): RequestRecorder {
  const { metrics, mi, clock } = recording;
  const recordingFor = (pattern: string, method: string): RouteRecording => {
    const api = API_ROUTE.exec(pattern);
    const version = api?.[1] ?? '';
    return {
      metrics: metrics.requestSeries({ route: pattern, method, version }),
      mi: api?.[2] ? mi.series(`${method} ${openApiPath(api[2])}`, version) : undefined,
    };
  };
  // A request whose route's handler did not start: found by its route's options (fastify 5 builds that object of
  // 13 fields on every read of `routeOptions`, so only these requests pay it), kept per route.
  const routes = new WeakMap<object, RouteRecording>();
  const recordingOf = (request: FastifyRequest): RouteRecording => {
    const options = request.routeOptions;
    const key = options.config as object;
    let route = routes.get(key);
    if (!route) {
      route = options.url
        ? recordingFor(options.url, String(options.method ?? request.method))
        : recordingFor(UNMATCHED, request.method);
      routes.set(key, route);
    }
    return route;
  };

  app.decorateRequest('routeRecording', null);
  // Every route added from now on (the parts mount after this) names what it records into once, when added,
  // and its handler hands it to the request as it starts: a wrapper, not an onRequest hook of the route's
  // own (a turn of fastify's hook runner per request). A request answered before its handler (a refusal by
  // the surface or the guard) is found by its route's options instead. The labels are those its
  // `routeOptions` would give (`url`: with the prefix; `method`: as given, a list joined by commas).
  app.addHook('onRoute', (route) => {
    const recording = recordingFor(route.url, String(route.method));
    const handler = route.handler;
    route.handler = function recorded(this: FastifyInstance, request, reply) {
      request.routeRecording = recording;
      return handler.call(this, request, reply);
    };
  });
  app.decorateRequest('firstByteMs', 0);
  return {
    sent(request, reply) {
      request.firstByteMs = reply.elapsedTime;
    },
    answered(request, reply) {
      const lastByteMs = reply.elapsedTime;
      const status = reply.statusCode;
      const route = request.routeRecording ?? recordingOf(request);
      route.metrics.answered(status, lastByteMs / 1000);
      if (route.mi) {
        mi.record(route.mi, {
          at: clock.epochMs(),
          status,
          // A reply the provider wrote itself (hijacked) has no onSend: its first byte is its last.
          firstByteMs: request.firstByteMs > 0 ? request.firstByteMs : lastByteMs,
          lastByteMs,
          requestBytes: lengthOf(request.headers['content-length']),
          responseBytes: lengthOf(replyLength(reply)),
        });
      }
    },
  };
}

function replyLength(reply: FastifyReply): unknown {
  return reply.getHeader('content-length') ?? reply.raw.getHeader('content-length');
}

function lengthOf(value: unknown): number {
  const length = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : 0;
  return Number.isFinite(length) && length > 0 ? length : 0;
}

/** `/aisp/accounts/:AccountId` as the OpenAPI files write it: `/aisp/accounts/{AccountId}`. */
function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}
