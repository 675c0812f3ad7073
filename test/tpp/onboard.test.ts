import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, importPKCS8, jwtVerify, type JSONWebKeySet } from 'jose';
import { parseParticipantCertificate } from '../../src/pki/index.ts';
import { selectParts } from '../../src/server/parts.ts';
import type { BankConnection } from '../../src/tpp/bank.ts';
import { readBundle } from '../../src/tpp/bundle.ts';
import { signRequestBody, trustAnchorOf } from '../../src/tpp/message-signing.ts';
import { runCli } from '../support/cli.ts';
import { call, httpsClient, startTestPlatform } from '../support/platform.ts';

describe('obkit tpp onboard', async () => {
  const platform = await startTestPlatform({ parts: selectParts(['directory']) });
  const caFile = join(platform.dataDir, 'pki', 'root-ca.pem');
  const work = mkdtempSync(join(tmpdir(), 'obkit-onboard-'));

  it('creates keys locally, sends CSRs and writes a complete bundle', async () => {
    const out = join(work, 'acme');
    const result = await runCli([
      'tpp',
      'onboard',
      '--name',
      'Acme Budgeting',
      '--roles',
      'AISP,PISP',
      '--redirect-uri',
      'https://acme.example/callback',
      '--out',
      out,
      '--directory',
      platform.urls.browser,
      '--ca',
      caFile,
    ]);
    assert.equal(result.code, 0, result.stderr);
    for (const step of [
      'generated transport key',
      'generated signing key',
      'directory created organisation',
      'SSA) verified',
      'bundle written',
    ]) {
      assert.ok(result.stdout.includes(step), `progress line for "${step}" in: ${result.stdout}`);
    }

    const bundle = readBundle(out);
    for (const key of ['transport.key.pem', 'signing.key.pem', 'encryption.key.pem']) {
      assert.equal(statSync(join(out, key)).mode & 0o777, 0o600, `${key} is private`);
    }
    assert.deepEqual(bundle.summary.software.roles, ['AISP', 'PISP']);
    assert.deepEqual(bundle.summary.software.redirectUris, ['https://acme.example/callback']);

    // The certificates chain to the directory CA (openssl is the independent judge) ...
    const chainFile = join(out, 'ca-chain.pem');
    for (const certificate of ['transport.cert.pem', 'signing.cert.pem', 'encryption.cert.pem']) {
      const verdict = execFileSync('openssl', ['verify', '-CAfile', chainFile, join(out, certificate)], {
        encoding: 'utf8',
      });
      assert.match(verdict, /: OK/);
    }
    // ... name the software and organisation, and carry the roles.
    const transport = parseParticipantCertificate(bundle.transportCertificatePem);
    assert.equal(transport.softwareId, bundle.summary.software.id);
    assert.equal(transport.orgId, bundle.summary.organisation.id);

    // The SSA verifies against the directory's published JWKS and names this software.
    const jwks = await call(httpsClient([readFileSync(caFile, 'utf8')]), bundle.summary.directory.jwksUri);
    const { payload } = await jwtVerify(bundle.ssa, createLocalJWKSet(jwks.body as JSONWebKeySet), {
      algorithms: ['PS256'],
    });
    assert.equal(payload.software_id, bundle.summary.software.id);
    assert.deepEqual(payload.software_roles, ['AISP', 'PISP']);
  });

  it("records a trust anchor other than the directory's host, and signs requests with it as tan", async () => {
    const out = join(work, 'live-tan');
    const args = ['--redirect-uri', 'https://acme.example/callback', '--directory', platform.urls.browser];
    const result = await runCli([
      'tpp',
      'onboard',
      '--name',
      'Acme Live',
      '--roles',
      'PISP',
      ...args,
      '--out',
      out,
      '--ca',
      caFile,
      '--trust-anchor',
      'openbanking.org.uk',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const bundle = readBundle(out);
    assert.equal(bundle.summary.directory.trustAnchor, 'openbanking.org.uk');
    assert.equal(trustAnchorOf(bundle), 'openbanking.org.uk');
    const signingKey = await importPKCS8(bundle.signingKeyPem, 'PS256');
    const signature = await signRequestBody(
      { signingKey, signingKid: bundle.summary.certificates.signing.kid } as BankConnection,
      bundle,
      '{}',
    );
    const header = decodeProtectedHeader(signature.replace('..', '.e30.'));
    assert.equal(header['http://openbanking.org.uk/tan'], 'openbanking.org.uk');
  });

  it('refuses to overwrite an existing bundle', async () => {
    const out = join(work, 'twice');
    const args = [
      'tpp',
      'onboard',
      '--name',
      'Twice',
      '--roles',
      'AISP',
      '--redirect-uri',
      'https://t.example/cb',
      '--out',
      out,
      '--directory',
      platform.urls.browser,
      '--ca',
      caFile,
    ];
    assert.equal((await runCli(args)).code, 0);
    const second = await runCli(args);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /already holds a bundle/);
  });

  it('exits 2 on unknown roles and non-https redirect URIs, before contacting anyone', async () => {
    const roles = await runCli([
      'tpp',
      'onboard',
      '--name',
      'X',
      '--roles',
      'AISP,BANKER',
      '--redirect-uri',
      'https://x.example/cb',
      '--out',
      join(work, 'x'),
      '--directory',
      'https://127.0.0.1:1',
    ]);
    assert.equal(roles.code, 2);
    assert.match(roles.stderr, /roles must be a comma-separated list of AISP, PISP, CBPII/);
    const http = await runCli([
      'tpp',
      'onboard',
      '--name',
      'X',
      '--roles',
      'AISP',
      '--redirect-uri',
      'http://x.example/cb',
      '--out',
      join(work, 'y'),
      '--directory',
      'https://127.0.0.1:1',
    ]);
    assert.equal(http.code, 2);
    assert.match(http.stderr, /redirect URI must be https/);
  });

  it('reports an unreachable directory without a stack trace', async () => {
    const result = await runCli([
      'tpp',
      'onboard',
      '--name',
      'X',
      '--roles',
      'AISP',
      '--redirect-uri',
      'https://x.example/cb',
      '--out',
      join(work, 'z'),
      '--directory',
      'https://127.0.0.1:1',
    ]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /cannot reach https:\/\/127\.0\.0\.1:1/);
    assert.doesNotMatch(result.stderr, /at .*\.ts:\d+/);
  });

  it('reports a directory refusal with its reason', async () => {
    const result = await runCli([
      'tpp',
      'onboard',
      '--name',
      '',
      '--roles',
      'AISP',
      '--redirect-uri',
      'https://x.example/cb',
      '--out',
      join(work, 'empty-name'),
      '--directory',
      platform.urls.browser,
      '--ca',
      caFile,
    ]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /onboarding at the directory failed with HTTP 400/);
  });
});
