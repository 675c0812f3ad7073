import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CaStoreError, loadOrCreateSandboxAuthorities } from '../../src/pki/index.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { temporaryDirectory } from './helpers.ts';

const freshDir = async (): Promise<string> => join(await temporaryDirectory('obkit-ca-'), 'ca');

describe('sandbox CA store', () => {
  it('gives every concurrent first start the same hierarchy', async () => {
    const dir = await freshDir();
    const all = await Promise.all([1, 2, 3, 4].map(() => loadOrCreateSandboxAuthorities(dir)));
    const roots = new Set(all.map((a) => a.root.certificate.serialNumber));
    const issuing = new Set(all.map((a) => a.issuing.certificate.serialNumber));
    assert.equal(roots.size, 1);
    assert.equal(issuing.size, 1);
  });

  it('gives concurrent first starts in separate processes the same hierarchy (lock file)', async () => {
    const dir = await freshDir();
    const module = new URL('../../src/pki/index.ts', import.meta.url).href;
    const script = `const { loadOrCreateSandboxAuthorities } = await import(${JSON.stringify(module)});
      const a = await loadOrCreateSandboxAuthorities(${JSON.stringify(dir)});
      console.log(a.root.certificate.serialNumber + ' ' + a.issuing.certificate.serialNumber);`;
    const run = (): Promise<string> =>
      new Promise((resolve, reject) =>
        execFile(process.execPath, ['--input-type=module', '-e', script], (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout.trim()),
        ),
      );
    const outputs = await Promise.all([run(), run(), run()]);
    assert.equal(new Set(outputs).size, 1, outputs.join(' | '));
    assert.match(outputs[0]!, /^[0-9a-f]+ [0-9a-f]+$/);
  });

  it('refuses an incomplete directory rather than overwrite a CA key', async () => {
    const dir = await freshDir();
    await loadOrCreateSandboxAuthorities(dir);
    await rm(join(dir, 'root-ca.key.pem'));
    await assert.rejects(loadOrCreateSandboxAuthorities(dir), (error: unknown) => {
      assert.ok(error instanceof CaStoreError);
      assert.match(error.message, /is incomplete: root-ca\.key\.pem missing/);
      return true;
    });
  });

  it('refuses a key that does not belong to its certificate', async () => {
    const one = await freshDir();
    const two = await freshDir();
    await loadOrCreateSandboxAuthorities(one);
    await loadOrCreateSandboxAuthorities(two);
    await writeFile(join(one, 'issuing-ca.key.pem'), await readFile(join(two, 'issuing-ca.key.pem')));
    await assert.rejects(
      loadOrCreateSandboxAuthorities(one),
      /the issuing CA private key does not match the issuing CA certificate/,
    );
  });

  it('refuses garbage in a certificate file with a message naming it', async () => {
    const dir = await freshDir();
    await loadOrCreateSandboxAuthorities(dir);
    await writeFile(join(dir, 'root-ca.pem'), 'not a certificate');
    await assert.rejects(
      loadOrCreateSandboxAuthorities(dir),
      /the root CA certificate file is not a PEM certificate/,
    );
  });

  it('refuses an expired hierarchy (clock injected)', async () => {
    const dir = await freshDir();
    await loadOrCreateSandboxAuthorities(dir);
    await assert.rejects(
      loadOrCreateSandboxAuthorities(dir, { clock: new ManualClock('2200-01-01T00:00:00Z') }),
      /certificate expired on .*; empty the CA directory/,
    );
  });
});
