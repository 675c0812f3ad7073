import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Agent, request } from 'undici';
import type { Part } from '../../src/server/platform.ts';
import { splitPemCertificates } from '../../src/server/tls-material.ts';
import { runCli, spawnCli, waitForExit, waitForOutput } from '../support/cli.ts';
import { rawTlsConnection } from '../support/raw-tls.ts';
import { call, httpsClient, seedDataDir, startTestPlatform } from '../support/platform.ts';
import { isolatedDatabaseEnv } from '../support/store.ts';

describe('process lifecycle', () => {
  it('`npm start` (obkit sandbox) reaches ready, serves /health, and exits 0 on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'obkit-start-'));
    const env = {
      OBKIT_DATA_DIR: dataDir,
      OBKIT_BROWSER_PORT: '0',
      OBKIT_MTLS_PORT: '0',
      OBKIT_OPERATOR_PORT: '0',
      OBKIT_LOG_LEVEL: 'warn',
      ...(await isolatedDatabaseEnv()),
    };
    const child = spawnCli(['sandbox'], env);
    const exited = waitForExit(child, 120_000);
    const output = await waitForOutput(child, /Stop with Ctrl-C/, 120_000);
    assert.match(output, /obkit sandbox ready in \d+\.\d\ds/);
    const browserUrl = /browser \(no client certificate\): (https:\/\/localhost:\d+)/.exec(output)?.[1];
    assert.ok(browserUrl, output);

    const ca = splitPemCertificates(readFileSync(join(dataDir, 'pki', 'root-ca.pem'), 'utf8'));
    const health = await call(httpsClient(ca), `${browserUrl}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(health.body, { status: 'ok' });
    const ready = await call(httpsClient(ca), `${browserUrl}/ready`);
    assert.equal(ready.status, 200);

    // The sandbox CA's private keys are readable by the owner only.
    assert.equal(statSync(join(dataDir, 'pki', 'root-ca.key.pem')).mode & 0o777, 0o600);

    child.kill('SIGTERM');
    const result = await exited;
    assert.equal(result.code, 0, result.stderr);
  });

  it('reuses the sandbox CA on the next start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'obkit-restart-'));
    // A CA made by an earlier start and a migrated database (the first start is the test above).
    await seedDataDir(dataDir);
    const env = {
      OBKIT_DATA_DIR: dataDir,
      OBKIT_BROWSER_PORT: '0',
      OBKIT_MTLS_PORT: '0',
      OBKIT_OPERATOR_PORT: '0',
      OBKIT_LOG_LEVEL: 'warn',
      ...(await isolatedDatabaseEnv()),
    };
    const migrate = await runCli(['migrate'], env);
    assert.equal(migrate.code, 0, migrate.stderr);
    const roots: string[] = [];
    for (let run = 0; run < 2; run += 1) {
      const child = spawnCli(['sandbox'], env);
      const exited = waitForExit(child, 120_000);
      await waitForOutput(child, /Stop with Ctrl-C/, 120_000);
      roots.push(readFileSync(join(dataDir, 'pki', 'root-ca.pem'), 'utf8'));
      child.kill('SIGINT');
      const result = await exited;
      assert.equal(result.code, 0, result.stderr);
    }
    assert.equal(roots[0], roots[1]);
  });

  it('lets an in-flight request finish during shutdown', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => (started = resolve));
    const slow: Part = {
      name: 'slow',
      async mount({ browser }) {
        browser.get('/slow', async () => {
          started();
          await gate;
          return { finished: true };
        });
      },
    };
    const platform = await startTestPlatform({ parts: [slow] });
    const ca = splitPemCertificates(platform.tls.ca.join('\n'));
    const agent = new Agent({ connect: { ca, servername: 'localhost' } });
    const pending = request(`${platform.urls.browser}/slow`, { dispatcher: agent });
    await arrived;
    const closing = platform.close();
    setTimeout(release, 100);
    const response = await pending;
    assert.equal(response.statusCode, 200);
    assert.deepEqual(await response.body.json(), { finished: true });
    await closing;
    await agent.close();
  });

  it('answers /ready with 503 while it drains, so that a load balancer stops sending work', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => (started = resolve));
    const slow: Part = {
      name: 'slow',
      async mount({ browser }) {
        browser.get('/slow', async () => {
          started();
          await gate;
          return { finished: true };
        });
      },
    };
    const platform = await startTestPlatform({ parts: [slow] });
    const url = new URL(platform.urls.browser);
    // Opened and begun before the shutdown: a connection with a request under way is not closed as idle.
    const readiness = await rawTlsConnection(url.hostname, Number(url.port), platform.tls.ca);
    await readiness.write('GET /ready HTTP/1.1\r\nHost: localhost\r\n');
    const ca = splitPemCertificates(platform.tls.ca.join('\n'));
    const agent = new Agent({ connect: { ca, servername: 'localhost' } });
    const pending = request(`${platform.urls.browser}/slow`, { dispatcher: agent });
    await arrived;
    const closing = platform.close();
    await readiness.write('\r\n');
    const ready = await readiness.answer();
    assert.match(ready, /^HTTP\/1\.1 503 /, ready);
    assert.match(ready, /\r\nconnection: close\r\n/i, ready);
    assert.match(ready, /"status":"draining"/, ready);
    release();
    const response = await pending;
    assert.equal(response.statusCode, 200);
    assert.deepEqual(await response.body.json(), { finished: true });
    await closing;
    await agent.close();
  });
});
