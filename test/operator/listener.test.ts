import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { call, httpsClient, startTestPlatform } from '../support/platform.ts';

describe('the operator listener', () => {
  it('is a third HTTPS listener of its own, with the server certificate and what every listener answers', async () => {
    const platform = await startTestPlatform();
    const ports = new Set(Object.values(platform.urls).map((url) => new URL(url).port));
    assert.equal(ports.size, 3, `three listeners on three ports: ${JSON.stringify(platform.urls)}`);
    const agent = httpsClient([readFileSync(join(platform.dataDir, 'pki', 'root-ca.pem'), 'utf8')]);
    const health = await call(agent, `${platform.urls.operator}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(health.body, { status: 'ok' });
    assert.equal((await call(agent, `${platform.urls.operator}/ready`)).status, 200);
    const nothing = await call(agent, `${platform.urls.operator}/console`);
    assert.equal(nothing.status, 404);
  });
});
