import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { pino } from 'pino';
import { requestLoggerFactory } from '../../src/server/logger.ts';

/**
 * A request's logger is made on its first line at an enabled level: a request that writes nothing costs no
 * pino child (its bindings serialised through the redaction), and a line it does write carries the
 * interaction id and the surface's bindings, redacted as every other line.
 */
describe("a request's logger", () => {
  function setUp(level: string) {
    const lines: Record<string, unknown>[] = [];
    let children = 0;
    const root = pino(
      {
        level,
        redact: { paths: ['req.headers.authorization', '*.password'], censor: '[redacted]' },
        onChild: () => void children++,
      },
      { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    );
    const surface = root.child({ surface: 'mtls' });
    const made = children;
    const factory = requestLoggerFactory;
    return { lines, surface, factory, childrenMade: () => children - made };
  }

  it('is not made for a request that writes nothing at an enabled level', () => {
    const { lines, surface, factory, childrenMade } = setUp('warn');
    const log = factory(surface, { interactionId: 'a1' }, {});
    log.info({ req: { url: '/accounts' } }, 'incoming request');
    log.debug('detail');
    assert.equal(log.level, 'warn');
    assert.equal(childrenMade(), 0);
    assert.deepEqual(lines, []);
  });

  it('writes what the child would: its interaction id, the surface, redacted', () => {
    const { lines, surface, factory, childrenMade } = setUp('info');
    const log = factory(surface, { interactionId: 'a2' }, {});
    log.warn({ req: { headers: { authorization: 'Bearer secret' } }, body: { password: 'pw' } }, 'refused');
    log.info('again');
    assert.equal(childrenMade(), 1, 'one child, made on the first line and kept');
    assert.equal(lines.length, 2);
    const [first] = lines;
    assert.equal(first?.['interactionId'], 'a2');
    assert.equal(first?.['surface'], 'mtls');
    assert.equal(first?.['msg'], 'refused');
    assert.deepEqual(first?.['req'], { headers: { authorization: '[redacted]' } });
    assert.deepEqual(first?.['body'], { password: '[redacted]' });
    assert.equal(lines[1]?.['interactionId'], 'a2');
    const nested = log.child({ step: 'x' });
    nested.info('nested');
    assert.equal(lines[2]?.['interactionId'], 'a2');
    assert.equal(lines[2]?.['step'], 'x');
  });

  it("takes a level set on it, and a route's own options at once", () => {
    const { lines, surface, factory, childrenMade } = setUp('warn');
    const log = factory(surface, { interactionId: 'a3' }, {});
    log.level = 'debug';
    log.debug('now shown');
    assert.equal(lines[0]?.['interactionId'], 'a3');
    assert.equal(surface.level, 'warn', "the surface's level is unchanged");
    const routeLog = factory(surface, { interactionId: 'a4' }, { level: 'info' });
    assert.equal(childrenMade(), 2);
    routeLog.info('route level');
    assert.equal(lines[1]?.['interactionId'], 'a4');
  });
});

describe("a surface's request loggers, through fastify", () => {
  it('are made only for requests that write a line, and carry the request id', async () => {
    const lines: Record<string, unknown>[] = [];
    let children = 0;
    const root = pino(
      { level: 'warn', onChild: () => void children++ },
      { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    );
    // As the surface does: fastify wraps the instance it is given in a child of its own.
    const app = Fastify({
      loggerInstance: root.child({ surface: 'mtls' }),
      childLoggerFactory: requestLoggerFactory,
      genReqId: () => 'interaction-1',
    });
    app.get('/quiet', async () => ({ ok: true }));
    app.get('/warns', async (request) => {
      request.log.warn('something to look into');
      return { ok: true };
    });
    await app.ready();
    const before = children;
    assert.equal((await app.inject({ url: '/quiet' })).statusCode, 200);
    assert.equal(children, before, 'no child for a request that writes nothing');
    assert.equal((await app.inject({ url: '/warns' })).statusCode, 200);
    assert.equal(children, before + 1);
    const warned = lines.find((line) => line['msg'] === 'something to look into');
    assert.equal(warned?.['reqId'], 'interaction-1');
    assert.equal(warned?.['surface'], 'mtls');
    await app.close();
  });
});
