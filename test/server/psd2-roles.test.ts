import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { parseParticipantCertificate } from '../../src/pki/index.ts';
import { authModels } from '../../src/store/schema/auth.ts';
import { clientCredentialsToken } from '../../src/tpp/authorization.ts';
import { apiBaseOf, callApi } from '../../src/tpp/open-banking.ts';
import { aisGet, authorise } from '../journey/ais-support.ts';
import { startSandbox, type Tpp } from '../support/journey.ts';
import { AIS_V3_1_11, validateComponent } from '../support/openapi.ts';

/**
 * PSD2 roles gate every API: a TPP reaches an API family only with the role for it (AIS → AISP, PIS and
 * VRP → PISP, CoF → CBPII), as registered (the SSA's roles narrowed by an eIDAS certificate's
 * QCStatement) and as the certificate it calls with still grants. Refusals are 403 with an OB error body.
 */

interface Answer {
  status: number;
  json: unknown;
  text: string;
}

function assertRoleRefused(answer: Answer, role: string): void {
  assert.equal(answer.status, 403, answer.text);
  const valid = validateComponent(AIS_V3_1_11, 'OBErrorResponse1', answer.json);
  assert.ok(valid.valid, valid.errors.join('\n'));
  const errors = (answer.json as { Errors: { ErrorCode: string; Message: string }[] }).Errors;
  assert.equal(errors[0]?.ErrorCode, 'UK.OBIE.Header.Invalid');
  assert.match(errors[0]?.Message ?? '', new RegExp(`for an? ${role}:`));
}

const paymentConsent = {
  Data: {
    Initiation: {
      InstructionIdentification: 'roles-1',
      EndToEndIdentification: 'roles-1',
      InstructedAmount: { Amount: '1.00', Currency: 'GBP' },
      CreditorAccount: {
        SchemeName: 'UK.OBIE.SortCodeAccountNumber',
        Identification: '08080021325698',
        Name: 'ACME Inc',
      },
    },
  },
  Risk: {},
};

const vrpConsent = {
  Data: {
    ControlParameters: {
      PSUAuthenticationMethods: ['UK.OBIE.SCA'],
      VRPType: ['UK.OBIE.VRPType.Sweeping'],
      MaximumIndividualAmount: { Amount: '10.00', Currency: 'GBP' },
      PeriodicLimits: [
        { Amount: '100.00', Currency: 'GBP', PeriodAlignment: 'Calendar', PeriodType: 'Month' },
      ],
    },
    Initiation: {},
  },
  Risk: {},
};

async function post(tpp: Tpp, token: string, path: string, body: unknown): Promise<Answer> {
  return callApi(tpp.bank, token, `${apiBaseOf(tpp.bank)}${path}`, {
    method: 'POST',
    body,
    headers: { 'x-idempotency-key': `roles-${Math.random().toString(36).slice(2)}` },
  });
}

describe('PSD2 roles on every API', async () => {
  const sandbox = await startSandbox();

  it('registers a QWAC + QSealC TPP end to end: register, token, API call', async () => {
    const tpp = await sandbox.tpp('eidas-ais', ['AISP'], { certificateProfile: 'eidas' });
    const transport = parseParticipantCertificate(new X509Certificate(tpp.bundle.transportCertificatePem));
    assert.equal(transport.profile, 'qwac');
    assert.deepEqual(transport.roles, ['PSP_AI']);
    assert.match(transport.organizationIdentifier ?? '', /^PSDGB-FCA-/);
    const consent = await authorise(sandbox, tpp, { permissions: ['ReadAccountsBasic'] });
    const accounts = await aisGet(tpp, consent.accessToken, '/accounts');
    assert.equal(accounts.status, 200, accounts.text);
  });

  it('refuses an AISP-only QWAC client on PIS and VRP (403), and issues it no payments scope', async () => {
    const tpp = await sandbox.tpp('eidas-aisp-only', ['AISP'], { certificateProfile: 'eidas' });
    const token = (await clientCredentialsToken(tpp.bank, 'accounts')).access_token;
    assertRoleRefused(await post(tpp, token, '/pisp/domestic-payment-consents', paymentConsent), 'PISP');
    assertRoleRefused(await post(tpp, token, '/pisp/domestic-vrp-consents', vrpConsent), 'PISP');
    await assert.rejects(clientCredentialsToken(tpp.bank, 'payments'), (error: Error) => {
      assert.equal((error as Error & { error?: string }).error, 'invalid_scope');
      return true;
    });
  });

  it('refuses a PISP-only client on AIS (403)', async () => {
    const tpp = await sandbox.tpp('pisp-only', ['PISP']);
    const token = (await clientCredentialsToken(tpp.bank, 'payments')).access_token;
    const staged = await post(tpp, token, '/aisp/account-access-consents', {
      Data: { Permissions: ['ReadAccountsBasic'] },
      Risk: {},
    });
    assertRoleRefused(staged, 'AISP');
  });

  it('grants a client registered with more scope than its roles allow no more than its roles', async () => {
    const tpp = await sandbox.tpp('widened-client', ['AISP']);
    // As if registered before roles were enforced: the stored client claims every scope.
    const { db } = sandbox.platform.store;
    const where = and(eq(authModels.model, 'Client'), eq(authModels.id, tpp.clientId));
    const [row] = await db.select({ payload: authModels.payload }).from(authModels).where(where);
    assert.ok(row);
    const payload = { ...(row.payload as Record<string, unknown>), scope: 'openid accounts payments' };
    await db.update(authModels).set({ payload }).where(where);
    await assert.rejects(clientCredentialsToken(tpp.bank, 'payments'), (error: Error) => {
      assert.equal((error as Error & { error?: string }).error, 'invalid_scope');
      return true;
    });
    assert.ok((await clientCredentialsToken(tpp.bank, 'accounts')).access_token);
  });
});
