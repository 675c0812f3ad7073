import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { OperatorMetrics } from './registry.ts';

/**
 * `GET /metrics` in Prometheus text format, for the operator listener only. With `token` configured
 * (`metricsToken`), the scraper must send `Authorization: Bearer <token>`; otherwise no login is asked.
 */
export async function metricsRoutes(
  app: FastifyInstance,
  options: { metrics: OperatorMetrics; token?: string | undefined },
): Promise<void> {
  const expected = options.token === undefined ? undefined : Buffer.from(`Bearer ${options.token}`);
  app.get('/metrics', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    if (expected) {
      const sent = Buffer.from(request.headers.authorization ?? '');
      if (sent.length !== expected.length || !timingSafeEqual(sent, expected)) {
        return reply
          .status(401)
          .header('www-authenticate', 'Bearer realm="obkit metrics"')
          .type('text/plain; charset=utf-8')
          .send('the metrics need the configured bearer token (metricsToken)\n');
      }
    }
    const text = await options.metrics.registry.metrics();
    return reply.type(options.metrics.registry.contentType).send(text);
  });
}
