import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { pageCsrf } from '../support/cookie-jar.ts';
import { call } from '../support/platform.ts';
import { directoryRowCounts, makeCsr, startDirectory, type KeyAndCsr } from './support.ts';

interface ErrorBody {
  error: string;
  error_description: string;
}

describe('directory onboarding refuses bad input with a 400 and leaves no rows behind', async () => {
  const directory = await startDirectory();
  const [transport, signing, encryption] = await Promise.all([makeCsr(), makeCsr(), makeCsr()]);
  const weak = await makeCsr({ bits: 1024 });
  const sha1 = await makeCsr({ hash: 'SHA-1' });
  const ecForEncryption = await makeCsr({ ec: true });
  // One good onboarding first, so that "no rows" means "no new rows" next to existing ones.
  await directory.onboard();
  const baseline = await directoryRowCounts(directory);
  assert.deepEqual(baseline, { organisations: 1, software: 1, certificates: 3 });

  const valid = (csrs: Partial<Record<'transport' | 'signing' | 'encryption', string>> = {}) => ({
    organisation: { name: 'Bad Input Ltd' },
    software: { clientName: 'Bad App', roles: ['AISP'], redirectUris: ['https://bad.example/cb'] },
    csrs: { transport: transport.csrPem, signing: signing.csrPem, encryption: encryption.csrPem, ...csrs },
  });
  const tamper = (csr: KeyAndCsr): string => {
    // Flip one character inside the base64 body: the signature no longer verifies (or the DER breaks).
    const lines = csr.csrPem.split('\n');
    const line = lines[5]!;
    lines[5] = `${line.slice(0, 10)}${line[10] === 'A' ? 'B' : 'A'}${line.slice(11)}`;
    return lines.join('\n');
  };

  const cases: { name: string; body: () => unknown; status?: number; code?: string; message: RegExp }[] = [
    {
      name: 'a CSR that is not PEM',
      body: () => valid({ transport: 'hello' }),
      code: 'invalid_csr',
      message: /csrs\.transport: .*not PEM/,
    },
    {
      name: 'a private key sent instead of a CSR',
      body: () => valid({ signing: transport.privateKeyPem }),
      code: 'invalid_csr',
      message: /csrs\.signing: .*private key/,
    },
    {
      name: 'a CSR whose bytes were altered',
      body: () => valid({ transport: tamper(transport) }),
      code: 'invalid_csr',
      message: /csrs\.transport: /,
    },
    {
      name: 'an RSA key under 2048 bits',
      body: () => valid({ transport: weak.csrPem }),
      code: 'invalid_csr',
      message: /csrs\.transport: .*1024.*2048|2048.*1024/,
    },
    {
      name: 'a CSR signed with SHA-1',
      body: () => valid({ signing: sha1.csrPem }),
      code: 'invalid_csr',
      message: /csrs\.signing: .*(sha1|SHA-1)/i,
    },
    {
      name: 'an EC key for encryption (RSA-OAEP needs RSA), after two good CSRs',
      body: () => valid({ encryption: ecForEncryption.csrPem }),
      message: /csrs\.encryption: .*RSA/,
    },
    {
      name: 'an unknown role',
      body: () => ({ ...valid(), software: { ...valid().software, roles: ['AISP', 'BANKER'] } }),
      message: /software\.roles: unknown role "BANKER"; allowed: AISP, PISP, CBPII, ASPSP/,
    },
    {
      name: 'no role',
      body: () => ({ ...valid(), software: { ...valid().software, roles: [] } }),
      message: /software\.roles: .*at least one/,
    },
    {
      name: 'a redirect URI over http',
      body: () => ({
        ...valid(),
        software: { ...valid().software, redirectUris: ['http://bad.example/cb'] },
      }),
      message: /software\.redirectUris\[0\]: redirect URI "http:\/\/bad\.example\/cb" must use https/,
    },
    {
      name: 'a redirect URI that is not a URL',
      body: () => ({ ...valid(), software: { ...valid().software, redirectUris: ['not a url'] } }),
      message: /software\.redirectUris\[0\]: .*is not a URL/,
    },
    {
      name: 'a logo URI over http',
      body: () => ({ ...valid(), software: { ...valid().software, logoUri: 'http://bad.example/logo.png' } }),
      message: /software\.logoUri: .*must use https/,
    },
    {
      name: 'an unknown certificate profile',
      body: () => ({ ...valid(), certificateProfile: 'x9' }),
      message: /certificateProfile must be "obie" or "eidas"/,
    },
    {
      name: 'an unknown field',
      body: () => ({ ...valid(), extra: true }),
      message: /unknown field "extra"/,
    },
    {
      name: 'a missing signing CSR',
      body: () => ({ ...valid(), csrs: { transport: transport.csrPem } }),
      message: /csrs\.signing: is required/,
    },
    {
      name: 'a missing organisation name',
      body: () => ({ ...valid(), organisation: {} }),
      message: /organisation\.name: is required/,
    },
    {
      name: 'a contact without a valid email',
      body: () => ({ ...valid(), organisation: { name: 'X', contacts: [{ name: 'A', email: 'nope' }] } }),
      message: /organisation\.contacts\[0\]\.email: /,
    },
    {
      name: 'a body that is not JSON',
      body: () => '{"organisation": ',
      message: /JSON/,
    },
    {
      name: 'an empty JSON body',
      body: () => 'null',
      message: /missing/,
    },
    {
      name: 'a body over 64 KiB',
      body: () => ({ ...valid(), software: { ...valid().software, description: 'x'.repeat(70_000) } }),
      status: 413,
      code: 'request_too_large',
      message: /larger than allowed/,
    },
  ];

  for (const testCase of cases) {
    it(`refuses ${testCase.name}`, async () => {
      const response = await directory.post('/onboard', testCase.body());
      const body = response.body as ErrorBody;
      assert.equal(response.status, testCase.status ?? 400, response.text);
      assert.equal(body.error, testCase.code ?? (testCase.status === 413 ? 'request_too_large' : body.error));
      assert.ok(['invalid_request', 'invalid_csr', 'request_too_large'].includes(body.error), body.error);
      assert.match(body.error_description, testCase.message);
      if (process.env.SHOW) console.log(response.status, body.error_description.slice(0, 300));
      assert.deepEqual(await directoryRowCounts(directory), baseline, 'no rows were added');
    });
  }

  it('still onboards a good request after all that', async () => {
    const response = await directory.post('/onboard', valid());
    assert.equal(response.status, 201, response.text);
    assert.deepEqual(await directoryRowCounts(directory), { organisations: 2, software: 2, certificates: 6 });
  });
});

describe('directory onboarding is one transaction', async () => {
  const directory = await startDirectory();

  it('rolls back the organisation, software and earlier certificates when a later insert fails', async () => {
    // A trigger makes the database itself refuse the third certificate row, inside the transaction.
    await directory.platform.store.db.execute(
      sql.raw(`create function refuse_encryption() returns trigger language plpgsql as $$
        begin if new.type = 'encryption' then raise exception 'refused by test trigger'; end if; return new; end $$`),
    );
    await directory.platform.store.db.execute(
      sql.raw(`create trigger refuse_encryption before insert on directory_certificates
        for each row execute function refuse_encryption()`),
    );
    const before = await directoryRowCounts(directory);
    await assert.rejects(directory.onboard(), /onboarding failed: 500/);
    assert.deepEqual(await directoryRowCounts(directory), before);
    assert.deepEqual(before, { organisations: 0, software: 0, certificates: 0 });
  });
});

describe('outside the sandbox', async () => {
  const directory = await startDirectory({ env: { OBKIT_SANDBOX: 'false' } });

  it('refuses onboarding without approval, over the API and on the web pages, and lists no sandbox bank', async () => {
    const [transport, signing] = await Promise.all([makeCsr(), makeCsr()]);
    const api = await directory.post('/onboard', {
      organisation: { name: 'Prod Ltd' },
      software: { clientName: 'Prod', roles: ['AISP'], redirectUris: ['https://prod.example/cb'] },
      csrs: { transport: transport.csrPem, signing: signing.csrPem },
    });
    assert.equal(api.status, 403);
    assert.match((api.body as ErrorBody).error_description, /only open in the sandbox/);
    const pages = `${directory.platform.urls.browser}/directory`;
    const csrf = await pageCsrf(() => call(directory.browser, `${pages}/`));
    const web = await call(directory.browser, `${pages}/organisations`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrf.cookie },
      body: new URLSearchParams({ csrf: csrf.token, name: 'Prod Ltd' }).toString(),
    });
    assert.equal(web.status, 403);
    assert.deepEqual(await directoryRowCounts(directory), { organisations: 0, software: 0, certificates: 0 });
    assert.deepEqual((await directory.get('/aspsps')).body, { aspsps: [] });
  });
});
