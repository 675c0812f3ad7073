import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/server/config.ts';
import { runCli } from '../support/cli.ts';

describe('configuration', () => {
  it('has working defaults', () => {
    const config = loadConfig({ env: {} });
    assert.equal(config.browserPort, 8443);
    assert.equal(config.mtlsPort, 8444);
    assert.equal(config.mtlsMode, 'direct');
    assert.equal(config.clientCertHeader, 'client-cert');
    assert.equal(config.revocationFailClosed, true);
  });

  it('reads the environment and a JSON file, the environment winning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'obkit-config-'));
    const file = join(dir, 'obkit.json');
    writeFileSync(file, JSON.stringify({ browserPort: 9000, mtlsPort: 9001, logLevel: 'debug' }));
    const config = loadConfig({ env: { OBKIT_CONFIG: file, OBKIT_MTLS_PORT: '9443' } });
    assert.equal(config.browserPort, 9000);
    assert.equal(config.mtlsPort, 9443);
    assert.equal(config.logLevel, 'debug');
  });

  it('names the key and the allowed values of a bad value', () => {
    assert.throws(
      () => loadConfig({ env: { OBKIT_MTLS_MODE: 'sideways' } }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /OBKIT_MTLS_MODE \(mtlsMode\): must be one of "direct", "proxy"; got "sideways"/.test(error.message),
    );
    assert.throws(
      () => loadConfig({ env: { OBKIT_BROWSER_PORT: '70000' } }),
      /OBKIT_BROWSER_PORT \(browserPort\): must be at most 65535/,
    );
    assert.throws(
      () => loadConfig({ env: { OBKIT_TRUSTED_PROXIES: '10.0.0.0/33' } }),
      /OBKIT_TRUSTED_PROXIES/,
    );
    assert.throws(
      () => loadConfig({ env: { DATABASE_URL: 'mysql://x' } }),
      /DATABASE_URL \(databaseUrl\): a postgres:\/\//,
    );
  });

  it('refuses proxy mode without a trusted proxy, and unknown keys in the file', () => {
    assert.throws(() => loadConfig({ env: { OBKIT_MTLS_MODE: 'proxy' } }), /OBKIT_TRUSTED_PROXIES/);
    const dir = mkdtempSync(join(tmpdir(), 'obkit-config-'));
    const file = join(dir, 'obkit.json');
    writeFileSync(file, JSON.stringify({ browserPortt: 1 }));
    assert.throws(() => loadConfig({ env: { OBKIT_CONFIG: file } }), /browserPortt in .*unknown key/);
    writeFileSync(file, '{ not json');
    assert.throws(() => loadConfig({ env: { OBKIT_CONFIG: file } }), /not valid JSON/);
  });

  it('makes the CLI exit 2 naming the key, with nothing written to the data directory', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'obkit-config-'));
    const dataDir = join(parent, 'data');
    const result = await runCli(['sandbox'], { OBKIT_DATA_DIR: dataDir, OBKIT_MTLS_PORT: 'eight' });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /OBKIT_MTLS_PORT \(mtlsPort\): must be a number; got "eight"/);
    assert.equal(existsSync(dataDir), false);
    assert.deepEqual(readdirSync(parent), []);
  });

  it('makes the CLI exit 2 on an unknown part', async () => {
    const result = await runCli(['serve', 'no-such-part'], {
      OBKIT_DATA_DIR: mkdtempSync(join(tmpdir(), 'obkit-x-')),
    });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown part "no-such-part"/);
  });
});
