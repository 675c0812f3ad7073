import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { request } from 'undici';
import { pageCsrf } from '../support/cookie-jar.ts';
import { call, type JsonResponse } from '../support/platform.ts';
import { directoryRowCounts, makeCsr, openssl, scratch, splitChain, startDirectory } from './support.ts';

describe('directory web pages', async () => {
  const directory = await startDirectory();
  const web = `${directory.platform.urls.browser}/directory`;
  const origin = directory.platform.urls.browser;
  let cookie = '';
  let orgId = '';
  let managementKey = '';
  let softwarePath = '';

  const get = (path: string, withCookie = true) =>
    call(directory.browser, `${web}${path}`, { headers: withCookie && cookie ? { cookie } : {} });
  // Every form post first opens a page, as a browser does, for the page-security cookie and form token.
  const csrf = await pageCsrf(() => call(directory.browser, `${web}/`));
  const post = (path: string, form: [string, string][], token: string | null = csrf.token) =>
    call(directory.browser, `${web}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: [csrf.cookie, cookie].filter(Boolean).join('; '),
      },
      body: new URLSearchParams(token === null ? form : [['csrf', token], ...form]).toString(),
    });
  const assertSafePage = (response: JsonResponse) => {
    assert.match(String(response.headers['content-type']), /text\/html/);
    assert.match(String(response.headers['content-security-policy']), /default-src 'none'/);
    assert.equal(response.headers['referrer-policy'], 'no-referrer');
    assert.match(String(response.headers['strict-transport-security']), /max-age=\d{7,}/);
    assert.doesNotMatch(response.text, /<script/i, 'no script on any page');
    assert.doesNotMatch(response.text, / on[a-z]+=/i, 'no inline event handlers');
  };

  it('shows the home page with the bank list and the trust links', async () => {
    const response = await get('/');
    assert.equal(response.status, 200);
    assertSafePage(response);
    assert.match(response.text, /obkit Sandbox Bank/);
    assert.match(response.text, /href="\/directory\/v1\/jwks"/);
  });

  it('creates an organisation, escaping what it shows, and signs the browser in', async () => {
    const response = await post('/organisations', [
      ['name', 'Evil <script>alert(1)</script> & Co'],
      ['contactName', 'Eve'],
      ['contactEmail', 'eve@evil.example'],
    ]);
    assert.equal(response.status, 201, response.text);
    assertSafePage(response);
    assert.match(response.text, /Evil &lt;script&gt;alert\(1\)&lt;\/script&gt; &amp; Co/);
    const setCookie = String(response.headers['set-cookie']);
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /Secure/);
    assert.match(setCookie, /SameSite=Strict/);
    cookie = setCookie.split(';')[0]!;
    orgId = /\/directory\/organisations\/([A-Za-z0-9]{18})/.exec(response.text)![1]!;
    managementKey = /Management key<\/strong>[^<]*<code>([A-Za-z0-9_-]+)<\/code>/.exec(response.text)![1]!;
  });

  it('refuses form posts without the page token, and pages of organisations the browser does not manage', async () => {
    const before = await directoryRowCounts(directory);
    const foreign = await post('/organisations', [['name', 'X']], null);
    assert.equal(foreign.status, 403);
    assertSafePage(foreign);
    const forged = await post('/organisations', [['name', 'X']], 'x'.repeat(43));
    assert.equal(forged.status, 403);
    assert.deepEqual(await directoryRowCounts(directory), before);
    const anonymous = await get(`/organisations/${orgId}`, false);
    assert.equal(anonymous.status, 403);
  });

  it('signs in elsewhere with the organisation id and management key, and refuses a wrong key', async () => {
    const saved = cookie;
    cookie = '';
    const wrong = await post('/sign-in', [
      ['orgId', orgId],
      ['key', 'wrong'],
    ]);
    assert.equal(wrong.status, 403);
    const right = await post('/sign-in', [
      ['orgId', orgId],
      ['key', managementKey],
    ]);
    assert.equal(right.status, 303);
    assert.equal(right.headers.location, `/directory/organisations/${orgId}`);
    assert.match(String(right.headers['set-cookie']), new RegExp(`obkit_directory=${orgId}\\.`));
    cookie = saved;
  });

  it('refuses a software form with bad input with a 400 page and no rows', async () => {
    const before = await directoryRowCounts(directory);
    const badUri = await post(`/organisations/${orgId}/software`, [
      ['clientName', 'Bad'],
      ['roles', 'AISP'],
      ['redirectUris', 'http://insecure.example/cb'],
      ['keys', 'generate'],
    ]);
    assert.equal(badUri.status, 400);
    assertSafePage(badUri);
    assert.match(badUri.text, /must use https/);
    const badCsr = await post(`/organisations/${orgId}/software`, [
      ['clientName', 'Bad'],
      ['roles', 'AISP'],
      ['redirectUris', 'https://ok.example/cb'],
      ['keys', 'csr'],
      ['csrTransport', (await makeCsr()).csrPem],
      ['csrSigning', (await makeCsr({ bits: 1024 })).csrPem],
    ]);
    assert.equal(badCsr.status, 400);
    assert.match(badCsr.text, /csrs\.signing: the CSR has an RSA key of 1024 bits/);
    assert.deepEqual(await directoryRowCounts(directory), before);
  });

  it('creates software with keys generated by the sandbox and lists its certificates', async () => {
    const response = await post(`/organisations/${orgId}/software`, [
      ['clientName', 'Evil App'],
      ['roles', 'AISP'],
      ['roles', 'PISP'],
      ['redirectUris', 'https://evil.example/cb\r\nhttps://evil.example/cb2'],
      ['mode', 'Test'],
      ['certificateProfile', 'eidas'],
      ['keys', 'generate'],
    ]);
    assert.equal(response.status, 303, response.text);
    softwarePath = String(response.headers.location).replace('/directory', '');
    const page = await get(softwarePath);
    assert.equal(page.status, 200);
    assertSafePage(page);
    for (const type of ['transport', 'signing', 'encryption'])
      assert.match(page.text, new RegExp(`<td>\\s*${type} <small>`));
    assert.match(page.text, /eIDAS/);
  });

  it('downloads a bundle that tar reads: keys (0600), certificates, CA chain, SSA, bundle.json', async () => {
    const download = await request(`${web}${softwarePath}/bundle.tar.gz`, {
      dispatcher: directory.browser,
      headers: { cookie },
    });
    assert.equal(download.statusCode, 200);
    assert.equal(download.headers['content-type'], 'application/gzip');
    const files = scratch();
    const archive = files.write('bundle.tar.gz', Buffer.from(await download.body.arrayBuffer()));
    const tar = spawnSync('tar', ['-xzf', archive, '-C', files.dir], { encoding: 'utf8' });
    assert.equal(tar.status, 0, tar.stderr);
    const softwareId = softwarePath.split('/').pop()!;
    const folder = join(files.dir, `obkit-bundle-${softwareId}`);
    const read = (name: string) => readFileSync(join(folder, name), 'utf8');
    for (const type of ['transport', 'signing', 'encryption']) {
      const certificate = new X509Certificate(read(`${type}.cert.pem`));
      assert.ok(
        certificate.checkPrivateKey(createPrivateKey(read(`${type}.key.pem`))),
        `${type} key matches`,
      );
      assert.equal(statSync(join(folder, `${type}.key.pem`)).mode & 0o777, 0o600);
    }
    const chain = splitChain(read('ca-chain.pem'));
    const root = files.write('root.pem', chain.root);
    const issuing = files.write('issuing.pem', chain.issuing);
    const verified = openssl([
      'verify',
      '-CAfile',
      root,
      '-untrusted',
      issuing,
      join(folder, 'transport.cert.pem'),
    ]);
    assert.equal(verified.status, 0, verified.stdout + verified.stderr);

    const summary = JSON.parse(read('bundle.json')) as {
      version: number;
      organisation: { id: string };
      software: { id: string; roles: string[]; redirectUris: string[]; jwksUri: string };
      certificates: Record<string, { kid: string; certificateFile: string; keyFile: string }>;
      directory: { url: string; jwksUri: string };
    };
    assert.equal(summary.version, 1);
    assert.equal(summary.organisation.id, orgId);
    assert.equal(summary.software.id, softwareId);
    assert.deepEqual(summary.software.roles, ['AISP', 'PISP']);
    assert.deepEqual(summary.software.redirectUris, ['https://evil.example/cb', 'https://evil.example/cb2']);
    assert.equal(summary.certificates.transport?.certificateFile, 'transport.cert.pem');
    assert.equal(summary.certificates.transport?.keyFile, 'transport.key.pem');
    assert.equal(summary.directory.url, origin);

    const jwks = (await call(directory.browser, summary.directory.jwksUri)).body as JSONWebKeySet;
    const { payload } = await jwtVerify(read('ssa.jwt').trim(), createLocalJWKSet(jwks), {
      algorithms: ['PS256'],
    });
    assert.equal(payload.software_id, softwareId);
    assert.equal(payload.org_name, 'Evil <script>alert(1)</script> & Co');

    // The bundled transport certificate and key work against the participant API.
    const participant = directory.asParticipant(read('transport.cert.pem'), read('transport.key.pem'));
    const own = await call(
      participant,
      `${directory.platform.urls.mtls}/directory/v1/software/${softwareId}`,
    );
    assert.equal(own.status, 200, own.text);
  });

  it('revokes a certificate from the page: it shows as revoked and leaves the JWKS', async () => {
    const softwareId = softwarePath.split('/').pop()!;
    const page = await get(softwarePath);
    const kid = new RegExp(
      `<td>\\s*signing <small>[\\s\\S]*?certificates/([A-Za-z0-9_-]{27})/certificate\\.pem`,
    ).exec(page.text)![1]!;
    const revoke = await post(`${softwarePath}/certificates/${kid}/revoke`, [['reason', 'superseded']]);
    assert.equal(revoke.status, 303);
    const after = await get(softwarePath);
    assert.match(after.text, /class="revoked">revoked<\/span>[^<]*\(superseded\)/);
    const jwks = (
      await call(directory.browser, `${directory.base}/organisations/${orgId}/software/${softwareId}/jwks`)
    ).body as {
      keys: { kid: string }[];
    };
    assert.ok(!jwks.keys.some((key) => key.kid === kid));
    const revoked = (
      await call(
        directory.browser,
        `${directory.base}/organisations/${orgId}/software/${softwareId}/jwks/revoked`,
      )
    ).body as { keys: { kid: string }[] };
    assert.deepEqual(
      revoked.keys.map((key) => key.kid),
      [kid],
    );
  });

  it('issues a new certificate from a pasted CSR', async () => {
    const csr = await makeCsr();
    const response = await post(`${softwarePath}/certificates`, [
      ['type', 'signing'],
      ['csr', csr.csrPem],
    ]);
    assert.equal(response.status, 303, response.text);
    const page = await get(softwarePath);
    assert.match(page.text, /<td>\s*signing\s*<\/td>/, 'a signing certificate without a generated key');
  });

  it('serves the public software page and the registry terms', async () => {
    const softwareId = softwarePath.split('/').pop()!;
    const response = await get(`/software/${softwareId}`, false);
    assert.equal(response.status, 200);
    assertSafePage(response);
    assert.match(response.text, /Evil &lt;script&gt;/);
    const tos = await get('/tos', false);
    assert.equal(tos.status, 200);
  });
});
