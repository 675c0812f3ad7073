import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { Clock } from '../shared/clock.ts';
import type { MiRecorder, MiSeries } from './mi/recorder.ts';
import type { OperatorMetrics, RequestSeries } from './metrics/registry.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Milliseconds from the request to the moment its answer's headers were handed to node (onSend). */
    firstByteMs: number;
    /**
     * What the request's route records into, set by the route's own onRequest hook (`recordRequests`); null
     * when no route matched, for a route added before the recording was installed, or when an earlier
     * onRequest hook answered (a refused certificate).
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
 * Records every answer of a surface (the mutual-TLS one: token, registration, the Read/Write APIs) into the
 * instance's Prometheus metrics, by route pattern (never the raw URL: bounded label values), and the Read/Write
 * API calls into the MI recorder (in memory; flushed to the database in batches). Installed before the parts
 * mount, so every route they add is recorded.
 */
export function recordRequests(
  app: FastifyInstance,
  recording: { metrics: OperatorMetrics; mi: MiRecorder; clock: Clock },
): void {
  const { metrics, mi, clock } = recording;
  const recordingFor = (pattern: string, method: string): RouteRecording => {
    const api = API_ROUTE.exec(pattern);
    const version = api?.[1] ?? '';
    return {
      metrics: metrics.requestSeries({ route: pattern, method, version }),
      mi: api?.[2] ? mi.series(`${method} ${openApiPath(api[2])}`, version) : undefined,
    };
  };
  // A request whose route's hook did not run: found by its route's options (fastify 5 builds that object of
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
  // Every route added from now on (the parts mount after this) names what it records into once, when added:
  // its own onRequest hook, after the surface's, hands it to the request. The labels are those its
  // `routeOptions` would give (`url`: with the prefix; `method`: as given, a list joined by commas).
  app.addHook('onRoute', (route) => {
    const recording = recordingFor(route.url, String(route.method));
    const own: onRequestHookHandler = (request, _reply, done) => {
      request.routeRecording = recording;
      done();
    };
    route.onRequest = [...hooksOf(route.onRequest), own];
  });
  app.decorateRequest('firstByteMs', 0);
  app.addHook('onSend', (request, reply, payload, done) => {
    request.firstByteMs = reply.elapsedTime;
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
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
    done();
  });
}

/** A route option's hooks (none, one or a list) as a list. */
function hooksOf<Hook>(hooks: Hook | Hook[] | undefined): Hook[] {
  return hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks];
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
