import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { participantStatusChannel } from '../../src/directory/index.ts';
import { CookieJar, csrfOf, setCookieLine } from '../support/cookie-jar.ts';
import { assertValidResponse } from '../support/openapi.ts';
import { call } from '../support/platform.ts';
import { startDirectory } from './support.ts';

/**
 * The operator sets a participant's status (organisation or software statement) through the directory's
 * REST API and its pages; banks read it from the MLA status API, shaped as specs/ob-mla-status/v2.1 says.
 */

const MLA_SPEC = 'ob-mla-status/v2.1/mla-participant.json';
const MLA_PATH = '/v2.1/organisation/mlastatus';

describe('participant status at the directory', async () => {
  const directory = await startDirectory();
  const operatorKey = readFileSync(
    join(directory.platform.dataDir, 'directory', 'operator.key'),
    'utf8',
  ).trim();
  const operatorBase = `${directory.base}/operator`;
  const asOperator = (path: string, method: 'GET' | 'PUT' = 'GET', body?: unknown, key = operatorKey) =>
    call(directory.browser, `${operatorBase}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  const tpp = await directory.onboard({ organisation: { name: 'Suspendable Ltd' } });
  const bank = await directory.onboard({
    organisation: { name: 'Reading Bank plc' },
    software: { clientName: 'Reading Bank', roles: ['ASPSP'] },
  });
  const orgId = tpp.body.organisation.id;
  const softwareId = tpp.body.software.id;
  const readMla = () =>
    call(
      directory.asParticipant(bank.body.certificates.transport.pem, bank.transport.privateKeyPem),
      `${directory.platform.urls.mtls}/directory${MLA_PATH}`,
    );
  const mlaEntry = async (id: string) => {
    const answer = await readMla();
    assert.equal(answer.status, 200, answer.text);
    assertValidResponse(MLA_SPEC, MLA_PATH, 'get', 200, answer.body);
    return (answer.body as { Data: Record<string, string>[] }).Data.find(
      (item) => item['OBOrganisationId'] === id,
    );
  };

  it('lists every organisation Active at first in the MLA status read, as the spec shapes it', async () => {
    const entry = await mlaEntry(orgId);
    assert.equal(entry?.['MLAStatus'], 'Active');
    assert.equal(entry?.['OrganisationCommonName'], 'Suspendable Ltd');
    assert.match(entry?.['NCAId'] ?? '', /^GB-FCA-\d+$/);
  });

  it('suspends an organisation: announced on the NOTIFY channel, read back, listed Suspended, no new SSA', async () => {
    let announced: (payload: string) => void = () => undefined;
    const heard = new Promise<string>((resolve) => (announced = resolve));
    const unlisten = await directory.platform.store.listen(participantStatusChannel, (payload) =>
      announced(payload),
    );
    const answer = await asOperator(`/organisations/${orgId}/status`, 'PUT', { status: 'Suspended' });
    assert.equal(answer.status, 200, answer.text);
    const view = answer.body as { status: string; statusUpdatedAt: string; software: { status: string }[] };
    assert.equal(view.status, 'Suspended');
    assert.equal(view.software[0]?.status, 'Active', 'the software keeps its own status');
    assert.deepEqual(JSON.parse(await heard) as unknown, { orgId, status: 'Suspended' });
    await unlisten();

    const read = await asOperator(`/organisations/${orgId}/status`);
    assert.equal((read.body as { status: string }).status, 'Suspended');
    const entry = await mlaEntry(orgId);
    assert.equal(entry?.['MLAStatus'], 'Suspended');
    assert.equal(entry?.['MLAStatusUpdated'], view.statusUpdatedAt);

    const ssa = await call(
      directory.asParticipant(tpp.body.certificates.transport.pem, tpp.transport.privateKeyPem),
      `${directory.platform.urls.mtls}/directory/v1/software/${softwareId}/ssa`,
      { method: 'POST' },
    );
    assert.equal(ssa.status, 409, ssa.text);
    assert.match(ssa.text, /Suspended/);

    const again = await asOperator(`/organisations/${orgId}/status`, 'PUT', { status: 'Active' });
    assert.equal((again.body as { status: string }).status, 'Active');
    assert.equal((await mlaEntry(orgId))?.['MLAStatus'], 'Active');
  });

  it('revokes and reinstates a software statement', async () => {
    const revoked = await asOperator(`/software/${softwareId}/status`, 'PUT', { status: 'Revoked' });
    assert.equal(revoked.status, 200, revoked.text);
    assert.equal((revoked.body as { status: string }).status, 'Revoked');
    const read = await asOperator(`/organisations/${orgId}/status`);
    assert.equal((read.body as { software: { status: string }[] }).software[0]?.status, 'Revoked');
    const active = await asOperator(`/software/${softwareId}/status`, 'PUT', { status: 'Active' });
    assert.equal((active.body as { status: string }).status, 'Active');
  });

  it('refuses the operator API without the operator key, a status it does not know, an unknown id', async () => {
    const noKey = await asOperator(`/organisations/${orgId}/status`, 'PUT', { status: 'Revoked' }, 'wrong');
    assert.equal(noKey.status, 401, noKey.text);
    assert.equal((noKey.body as { error: string }).error, 'access_denied');
    const unknownStatus = await asOperator(`/organisations/${orgId}/status`, 'PUT', { status: 'Gone' });
    assert.equal(unknownStatus.status, 400, unknownStatus.text);
    const notJson = await call(directory.browser, `${operatorBase}/organisations/${orgId}/status`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${operatorKey}`, 'content-type': 'application/json' },
      body: '{"status":',
    });
    assert.equal(notJson.status, 400, notJson.text);
    const unknownOrg = await asOperator('/organisations/AAAAAAAAAAAAAAAAAA/status', 'PUT', {
      status: 'Revoked',
    });
    assert.equal(unknownOrg.status, 404, unknownOrg.text);
    assert.equal((await mlaEntry(orgId))?.['MLAStatus'], 'Active', 'nothing changed');
  });

  it('lets only banks read the MLA status, answering errors as the spec shapes them', async () => {
    const byTpp = await call(
      directory.asParticipant(tpp.body.certificates.transport.pem, tpp.transport.privateKeyPem),
      `${directory.platform.urls.mtls}/directory${MLA_PATH}`,
    );
    assert.equal(byTpp.status, 403, byTpp.text);
    assertValidResponse(MLA_SPEC, MLA_PATH, 'get', 403, byTpp.body);
    const xml = await call(
      directory.asParticipant(bank.body.certificates.transport.pem, bank.transport.privateKeyPem),
      `${directory.platform.urls.mtls}/directory${MLA_PATH}`,
      { headers: { accept: 'application/xml' } },
    );
    assert.equal(xml.status, 406, xml.text);
    assertValidResponse(MLA_SPEC, MLA_PATH, 'get', 406, xml.body);
  });

  describe('the operator pages', () => {
    const web = `${directory.platform.urls.browser}/directory`;
    // A browser: its cookies (the page-security CSRF cookie, then the operator session) and the forms' token.
    const jar = new CookieJar();
    let token = '';
    const open = async (path: string) => {
      const page = await call(directory.browser, `${web}${path}`, {
        headers: jar.cookies.size ? { cookie: jar.header() } : {},
      });
      jar.take(page.headers['set-cookie']);
      token = csrfOf(page.text) ?? token;
      return page;
    };
    const post = async (path: string, form: [string, string][], { withToken = true } = {}) => {
      const answer = await call(directory.browser, `${web}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
        body: new URLSearchParams([
          ...form,
          ...(withToken ? [['csrf', token] as [string, string]] : []),
        ]).toString(),
      });
      jar.take(answer.headers['set-cookie']);
      return answer;
    };

    it('asks for the operator key, and refuses a wrong one', async () => {
      const page = await open('/operator');
      assert.equal(page.status, 200);
      assert.match(page.text, /name="key"/);
      assert.doesNotMatch(page.text, new RegExp(orgId), 'no participant is shown before signing in');
      const wrong = await post('/operator/sign-in', [['key', 'not-the-key']]);
      assert.equal(wrong.status, 403, wrong.text);
      assert.doesNotMatch(String(wrong.headers['set-cookie'] ?? ''), /obkit_directory_operator=/);
    });

    it('refuses a status form without the operator session', async () => {
      const refused = await post(`/operator/organisations/${orgId}/status`, [['status', 'Revoked']]);
      assert.equal(refused.status, 403, refused.text);
    });

    it('signs the operator in, shows every participant with its status, and changes it', async () => {
      const signedIn = await post('/operator/sign-in', [['key', operatorKey]]);
      assert.equal(signedIn.status, 303, signedIn.text);
      const setCookie = setCookieLine(signedIn.headers['set-cookie'], 'obkit_directory_operator');
      assert.match(setCookie, /HttpOnly/);
      assert.match(setCookie, /SameSite=Strict/);

      const page = await open('/operator');
      assert.equal(page.status, 200);
      assert.match(page.text, /Suspendable Ltd/);
      assert.match(page.text, new RegExp(`action="/directory/operator/software/${softwareId}/status"`));

      // Posted from elsewhere (without the page's CSRF token): refused, as every directory form is.
      const forged = await post(`/operator/organisations/${orgId}/status`, [['status', 'Revoked']], {
        withToken: false,
      });
      assert.equal(forged.status, 403, forged.text);
      assert.equal((await mlaEntry(orgId))?.['MLAStatus'], 'Active');

      const suspended = await post(`/operator/organisations/${orgId}/status`, [['status', 'Suspended']]);
      assert.equal(suspended.status, 303, suspended.text);
      assert.equal((await mlaEntry(orgId))?.['MLAStatus'], 'Suspended');
      const shown = await open('/operator');
      assert.match(shown.text, /<td class="revoked">Suspended<\/td>/);

      const unknown = await post(`/operator/software/${softwareId}/status`, [['status', 'Paused']]);
      assert.equal(unknown.status, 400, unknown.text);
      const reinstated = await post(`/operator/organisations/${orgId}/status`, [['status', 'Active']]);
      assert.equal(reinstated.status, 303, reinstated.text);
      assert.equal((await mlaEntry(orgId))?.['MLAStatus'], 'Active');
    });
  });
});
