import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitPemCertificates } from '../../src/server/tls-material.ts';
import { call, ERROR_LEVEL, httpsClient, logCapture, startTestPlatform } from '../support/platform.ts';

/**
 * Every 5xx is ours to look into: whatever answered it — a handler that threw, one that chose a 5xx, or a
 * hijacked reply written straight to the socket (how the authorization server's Koa app answers) — it is
 * logged at error level with the x-fapi-interaction-id the client was given; a client error is not.
 */
describe('every 5xx is logged at error level with the interaction id', async () => {
  const logs = logCapture();
  const platform = await startTestPlatform({
    logTo: logs,
    parts: [
      {
        name: 'failing',
        async mount({ browser }) {
          browser.get('/throws', async () => {
            throw new Error('the database is on fire at /srv/app/db.ts:12:3');
          });
          browser.get('/unavailable', async (_request, reply) => reply.status(503).send({ status: 'down' }));
          browser.get('/hijacked', async (request, reply) => {
            // As src/auth/fastify.ts does: a hijacked reply writes the interaction id itself.
            reply.hijack();
            reply.raw.writeHead(502, {
              'content-type': 'application/json',
              'x-fapi-interaction-id': request.id,
            });
            reply.raw.end('{"error":"server_error"}');
          });
          browser.get('/refused', async (_request, reply) =>
            reply.status(400).send({ error: 'invalid_request' }),
          );
        },
      },
    ],
  });
  const agent = httpsClient(splitPemCertificates(platform.tls.ca.join('\n')));
  const errorLines = (interactionId: string) =>
    logs.lines.filter((line) => line.level >= ERROR_LEVEL && line.interactionId === interactionId);

  for (const [path, status] of [
    ['/throws', 500],
    ['/unavailable', 503],
    ['/hijacked', 502],
  ] as const) {
    it(`${path} answers ${status}, logged at error level with its interaction id`, async () => {
      const interactionId = crypto.randomUUID();
      const response = await call(agent, `${platform.urls.browser}${path}`, {
        headers: { 'x-fapi-interaction-id': interactionId },
      });
      assert.equal(response.status, status);
      assert.equal(response.headers['x-fapi-interaction-id'], interactionId);
      assert.doesNotMatch(response.text, /fire|\/srv\//, 'nothing internal reaches the client');
      const logged = errorLines(interactionId);
      assert.ok(
        logged.some((line) => line['status'] === status && line['path'] === path),
        JSON.stringify(logs.lines.slice(-5)),
      );
    });
  }

  it('a 4xx is not logged at error level', async () => {
    const interactionId = crypto.randomUUID();
    const response = await call(agent, `${platform.urls.browser}/refused`, {
      headers: { 'x-fapi-interaction-id': interactionId },
    });
    assert.equal(response.status, 400);
    assert.deepEqual(errorLines(interactionId), []);
  });
});
