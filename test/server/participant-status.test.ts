import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { participantStatusChannel } from '../../src/directory/index.ts';
import { ConfigError, loadConfig } from '../../src/server/config.ts';
import { createParticipantStatusGate, mlaStatusSource } from '../../src/server/participant-status.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { fetch as undiciFetch } from 'undici';
import { clientCredentialsToken, startAuthorization } from '../../src/tpp/authorization.ts';
import { apiBaseOf, callApi } from '../../src/tpp/open-banking.ts';
import { readBundle, type Role } from '../../src/tpp/bundle.ts';
import { onboard } from '../../src/tpp/onboard.ts';
import { registerAtBank } from '../../src/tpp/register.ts';
import { aisGet, authorise } from '../journey/ais-support.ts';
import { startSandbox, type Sandbox, type Tpp, startTwoInstances } from '../support/journey.ts';
import { AIS_V3_1_11, assertValidResponse, validateComponent } from '../support/openapi.ts';
import { call, httpsClient } from '../support/platform.ts';
import { registrationSerialisations } from '../support/registration-serialisations.ts';

/**
 * A participant the directory operator suspends or revokes — its organisation, or one software statement —
 * gets no registration, no token and no API answer on the very next request, and is served again once
 * reinstated; on PostgreSQL, a suspension made through one instance is refused by another at once.
 */

type Status = 'Active' | 'Suspended' | 'Revoked';

const MLA_SPEC = 'ob-mla-status/v2.1/mla-participant.json';
const MLA_PATH = '/v2.1/organisation/mlastatus';

const orgOf = (tpp: Tpp) => tpp.bundle.summary.organisation.id;
const softwareOf = (tpp: Tpp) => tpp.bundle.summary.software.id;

function operatorKey(sandbox: Sandbox): string {
  return readFileSync(join(sandbox.platform.dataDir, 'directory', 'operator.key'), 'utf8').trim();
}

/** The operator sets a status through the directory's REST API (on the given instance). */
async function setStatus(
  sandbox: Sandbox,
  target: { orgId: string } | { softwareId: string },
  status: Status,
  on: Sandbox = sandbox,
): Promise<void> {
  const path =
    'orgId' in target ? `organisations/${target.orgId}/status` : `software/${target.softwareId}/status`;
  const response = await call(
    httpsClient([on.rootPem]),
    `${on.platform.urls.browser}/directory/v1/operator/${path}`,
    {
      method: 'PUT',
      headers: { authorization: `Bearer ${operatorKey(sandbox)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ status }),
    },
  );
  assert.equal(response.status, 200, response.text);
  assert.equal((response.body as { status: string }).status, status);
}

function assertApiRefused(answer: { status: number; json: unknown; text: string }, status: Status): void {
  assert.equal(answer.status, 403, answer.text);
  const valid = validateComponent(AIS_V3_1_11, 'OBErrorResponse1', answer.json);
  assert.ok(valid.valid, valid.errors.join('\n'));
  const errors = (answer.json as { Errors: { ErrorCode: string; Message: string }[] }).Errors;
  assert.match(errors[0]?.Message ?? '', new RegExp(`is ${status} at the directory`));
}

async function assertTokenRefused(tpp: Tpp, status: Status): Promise<void> {
  await assert.rejects(clientCredentialsToken(tpp.bank, 'accounts'), (error: Error) => {
    const refusal = error as Error & { status?: number; error?: string; error_description?: string };
    assert.equal(refusal.status, 401);
    assert.equal(refusal.error, 'invalid_client');
    assert.match(refusal.error_description ?? '', new RegExp(`is ${status} at the directory`));
    return true;
  });
}

async function assertRegistrationRefused(sandbox: Sandbox, tpp: Tpp, status: Status): Promise<void> {
  await assert.rejects(
    registerAtBank(tpp.bundle, { discoveryUrl: sandbox.discoveryUrl, trust: [sandbox.rootPem], new: true }),
    (error: Error) => {
      assert.equal((error as Error & { status?: number }).status, 400, error.message);
      assert.match(error.message, /unapproved_software_statement/);
      assert.match(error.message, new RegExp(`is ${status} at the directory`));
      return true;
    },
  );
}

describe('participant status at the directory, enforced by the bank', async () => {
  const sandbox = await startSandbox();

  it('a suspended organisation is refused at DCR, the token endpoint and the API; reinstated, it is served', async () => {
    const tpp = await sandbox.tpp('suspended-org', ['AISP']);
    const consent = await authorise(sandbox, tpp, { permissions: ['ReadAccountsBasic'] });
    // Read first, so the API's caches hold the token and the status when the operator acts.
    assert.equal((await aisGet(tpp, consent.accessToken, '/accounts')).status, 200);

    await setStatus(sandbox, { orgId: orgOf(tpp) }, 'Suspended');
    assertApiRefused(await aisGet(tpp, consent.accessToken, '/accounts'), 'Suspended');
    // A client_credentials token obtained before: refused at the consent endpoints too.
    const staged = await callApi(
      tpp.bank,
      consent.clientToken,
      `${apiBaseOf(tpp.bank)}/aisp/account-access-consents`,
      {
        method: 'POST',
        body: { Data: { Permissions: ['ReadAccountsBasic'] }, Risk: {} },
      },
    );
    assertApiRefused({ status: staged.status, json: staged.json, text: staged.text }, 'Suspended');
    await assertTokenRefused(tpp, 'Suspended');
    // PAR authenticates the client too.
    await assert.rejects(
      startAuthorization(tpp.bank, {
        intentId: consent.consentId,
        scope: 'accounts',
        redirectUri: tpp.redirectUri,
      }),
      /is Suspended at the directory/,
    );
    await assertRegistrationRefused(sandbox, tpp, 'Suspended');

    await setStatus(sandbox, { orgId: orgOf(tpp) }, 'Active');
    const back = await aisGet(tpp, consent.accessToken, '/accounts');
    assert.equal(back.status, 200, back.text);
    assert.ok((await clientCredentialsToken(tpp.bank, 'accounts')).access_token);
  });

  it("a warm token request serialises no registration: the provider's built client is kept per cached one", async () => {
    // oidc-provider's Client.find hashes the JSON of whatever registration the adapter gives it, to find the
    // client it built from it; a registration the client cache keeps has its built client kept with it. The
    // adapter (client cache, participant status: the test above) is still asked on every request.
    const tpp = await sandbox.tpp('warm-client', ['AISP']);
    const registration = Object.values(tpp.bundle.summary.registrations)[0];
    assert.ok(registration, 'the bundle records the registration');
    assert.ok((await clientCredentialsToken(tpp.bank, 'accounts')).access_token);
    const serialised = await registrationSerialisations(
      registration.clientId,
      'software_statement',
      async () => {
        for (let i = 0; i < 3; i++)
          assert.ok((await clientCredentialsToken(tpp.bank, 'accounts')).access_token);
      },
    );
    assert.equal(serialised, 0);
  });

  it('a revoked software statement is refused the same way, and its organisation’s other software is not', async () => {
    const tpp = await sandbox.tpp('revoked-software', ['AISP']);
    const other = await sandbox.tpp('unaffected-software', ['AISP']);
    const consent = await authorise(sandbox, tpp, { permissions: ['ReadAccountsBasic'] });
    assert.equal((await aisGet(tpp, consent.accessToken, '/accounts')).status, 200);

    await setStatus(sandbox, { softwareId: softwareOf(tpp) }, 'Revoked');
    assertApiRefused(await aisGet(tpp, consent.accessToken, '/accounts'), 'Revoked');
    await assertTokenRefused(tpp, 'Revoked');
    await assertRegistrationRefused(sandbox, tpp, 'Revoked');
    assert.ok((await clientCredentialsToken(other.bank, 'accounts')).access_token);

    await setStatus(sandbox, { softwareId: softwareOf(tpp) }, 'Active');
    assert.equal((await aisGet(tpp, consent.accessToken, '/accounts')).status, 200);
  });

  it('refuses a status change without the operator key, or with a status the MLA API does not know', async () => {
    const tpp = await sandbox.tpp('not-the-operator', ['AISP']);
    const url = `${sandbox.platform.urls.browser}/directory/v1/operator/organisations/${orgOf(tpp)}/status`;
    const client = httpsClient([sandbox.rootPem]);
    const anonymous = await call(client, url, {
      method: 'PUT',
      headers: { authorization: 'Bearer not-the-key', 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'Suspended' }),
    });
    assert.equal(anonymous.status, 401, anonymous.text);
    const unknown = await call(client, url, {
      method: 'PUT',
      headers: { authorization: `Bearer ${operatorKey(sandbox)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'Paused' }),
    });
    assert.equal(unknown.status, 400, unknown.text);
    assert.ok((await clientCredentialsToken(tpp.bank, 'accounts')).access_token);
  });

  it('a bank reading the MLA status API refuses a suspended organisation (the production source)', async () => {
    const aspsp = await onboardAspsp(sandbox);
    const tpp = await sandbox.tpp('mla-listed', ['AISP']);
    const agent = httpsClient([sandbox.rootPem], {
      certificatePem: aspsp.certificatePem,
      privateKeyPem: aspsp.privateKeyPem,
    });
    const gate = createParticipantStatusGate({
      clock: systemClock,
      maxCacheSeconds: 300,
      failOpen: false,
      source: mlaStatusSource({
        url: `${sandbox.platform.urls.mtls}/directory${MLA_PATH}`,
        clock: systemClock,
        maxCacheSeconds: 0,
        fetch: ((url: string, init?: object) =>
          undiciFetch(url, { ...init, dispatcher: agent } as never)) as unknown as typeof fetch,
      }),
    });
    const mlaUrl = `${sandbox.platform.urls.mtls}/directory${MLA_PATH}`;
    const listed = await call(agent, mlaUrl);
    assert.equal(listed.status, 200, listed.text);
    assertValidResponse(MLA_SPEC, MLA_PATH, 'get', 200, listed.body);
    assert.ok(typeof listed.headers['ob-request-id'] === 'string');
    const entry = (listed.body as { Data: { OBOrganisationId: string; MLAStatus: string }[] }).Data.find(
      (item) => item.OBOrganisationId === orgOf(tpp),
    );
    assert.equal(entry?.MLAStatus, 'Active');
    // A TPP is not a bank: it may not read the list.
    const byTpp = await call(
      httpsClient([sandbox.rootPem], {
        certificatePem: tpp.bundle.transportCertificatePem,
        privateKeyPem: tpp.bundle.transportKeyPem,
      }),
      mlaUrl,
    );
    assert.equal(byTpp.status, 403, byTpp.text);
    assertValidResponse(MLA_SPEC, MLA_PATH, 'get', 403, byTpp.body);
    const anonymous = await call(httpsClient([sandbox.rootPem]), mlaUrl);
    assert.equal(anonymous.status, 401, anonymous.text);
    assertValidResponse(MLA_SPEC, MLA_PATH, 'get', 401, anonymous.body);

    assert.deepEqual(await gate.check({ orgId: orgOf(tpp) }), { active: true });
    await setStatus(sandbox, { orgId: orgOf(tpp) }, 'Suspended');
    // A production bank hears no NOTIFY from another directory: its kept answer lasts until it expires,
    // which dropping it here stands in for.
    gate.forget({ orgId: orgOf(tpp), status: 'Suspended' });
    const verdict = await gate.check({ orgId: orgOf(tpp) });
    assert.equal(verdict.active, false);
    assert.match((verdict as { detail: string }).detail, /is Suspended at the directory/);
    assert.equal((await gate.check({ orgId: 'unknownorg00000000' })).active, false);
    await setStatus(sandbox, { orgId: orgOf(tpp) }, 'Active');
  });
});

describe('the participant status gate', () => {
  it('refuses when the directory cannot be asked unless fail-open, keeps answers, and drops them on a change', async () => {
    let asked = 0;
    let status = 'Active';
    let reachable = true;
    const source = async () => {
      asked += 1;
      if (!reachable) throw new Error('connection refused');
      return { organisation: status, software: 'Active' };
    };
    const options = { clock: systemClock, maxCacheSeconds: 300 };
    const closed = createParticipantStatusGate({ ...options, failOpen: false, source });
    const participant = { orgId: 'org1', softwareId: 'sw1' };
    assert.deepEqual(await closed.check(participant), { active: true });
    status = 'Suspended';
    assert.deepEqual(await closed.check(participant), { active: true }, 'kept until a change is announced');
    assert.equal(asked, 1);
    closed.forget({ orgId: 'org2', status: 'Suspended' });
    assert.equal((await closed.check(participant)).active, true, 'another organisation changed');
    closed.forget({ orgId: 'org1', status: 'Suspended' });
    assert.equal((await closed.check(participant)).active, false);
    assert.equal(asked, 2);

    reachable = false;
    closed.forget({ orgId: 'org1', status: 'Active' });
    const refused = await closed.check(participant);
    assert.equal(refused.active, false);
    assert.match((refused as { detail: string }).detail, /cannot be checked: connection refused/);
    const open = createParticipantStatusGate({ ...options, failOpen: true, source });
    assert.deepEqual(await open.check(participant), { active: true });
  });

  it('takes the reading identity whole or not at all', () => {
    assert.throws(
      () =>
        loadConfig({
          env: { OBKIT_PARTICIPANT_STATUS_CERT_FILE: '/nowhere/cert.pem' },
        }),
      (error: Error) => error instanceof ConfigError && /set both or neither/.test(error.message),
    );
    assert.throws(
      () => loadConfig({ env: { OBKIT_PARTICIPANT_STATUS_URL: 'http://directory.example/mla' } }),
      ConfigError,
    );
  });
});

/** An organisation with a bank's software statement (role ASPSP), onboarded at the sandbox directory. */
async function onboardAspsp(sandbox: Sandbox): Promise<{ certificatePem: string; privateKeyPem: string }> {
  const outDir = mkdtempSync(join(tmpdir(), 'obkit-aspsp-'));
  after(() => rmSync(outDir, { recursive: true, force: true }));
  await onboard({
    directoryUrl: sandbox.platform.urls.browser,
    organisationName: 'A reading bank',
    clientName: 'A reading bank',
    // The SDK onboards TPPs; a bank's software statement is onboarded with the same call, role ASPSP.
    roles: ['ASPSP'] as unknown as Role[],
    redirectUris: ['https://bank.example/callback'],
    certificateProfile: 'obie',
    outDir,
    trust: [sandbox.rootPem],
  });
  const bundle = readBundle(outDir);
  return { certificatePem: bundle.transportCertificatePem, privateKeyPem: bundle.transportKeyPem };
}

describe(
  'a suspension made through one instance, on PostgreSQL',
  { skip: !process.env.DATABASE_URL },
  async () => {
    const { storeB, instanceA, instanceB } = await startTwoInstances(process.env.DATABASE_URL ?? '');

    it('is refused by the other instance as soon as the NOTIFY reaches it, and served again when reinstated', async () => {
      const tpp = await instanceA.tpp('suspended-elsewhere', ['AISP']);
      const consent = await authorise(instanceA, tpp, { permissions: ['ReadAccountsBasic'] });
      const readOnB = async () => {
        const answer = await call(
          httpsClient([instanceB.rootPem], {
            certificatePem: tpp.bundle.transportCertificatePem,
            privateKeyPem: tpp.bundle.transportKeyPem,
          }),
          `${instanceB.platform.urls.mtls}/open-banking/v3.1/aisp/accounts`,
          { headers: { authorization: `Bearer ${consent.accessToken}` } },
        );
        return { status: answer.status, json: answer.body, text: answer.text };
      };
      // B keeps the status (Active) and the token in its caches.
      assert.equal((await readOnB()).status, 200);

      // Registered after B's own listener on B's store, so when it resolves B has already dropped the status.
      const heard = (status: Status) =>
        new Promise<void>((resolve) => {
          void storeB.listen(participantStatusChannel, (payload) => {
            if ((JSON.parse(payload) as { status: string }).status === status) resolve();
          });
        });
      const suspendedOnB = heard('Suspended');
      await setStatus(instanceA, { orgId: orgOf(tpp) }, 'Suspended');
      await suspendedOnB;
      assertApiRefused(await readOnB(), 'Suspended');

      const reinstatedOnB = heard('Active');
      await setStatus(instanceA, { orgId: orgOf(tpp) }, 'Active');
      await reinstatedOnB;
      assert.equal((await readOnB()).status, 200);
    });
  },
);
