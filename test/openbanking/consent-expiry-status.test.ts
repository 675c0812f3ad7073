import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fundsConfirmation } from '../../src/openbanking/cof/funds-confirmation.ts';
import { VERSION_BASES, type ApiVersion } from '../../src/openbanking/versions.ts';
import { assertValidResponse, COF_V3_1_11, COF_V4_0 } from '../support/openapi.ts';
import { createHarness } from './pis-support.ts';

/**
 * A consent past its expiry that the PSU never authorised, as the TPP reads it: `EXPD` on v4.0 ("The
 * consent has passed its expiry date", Account Access Consents v4.0 and OB_Internal_CodeSet's EXPD), not
 * `AWAU` — it can never be authorised now; its stored `AwaitingAuthorisation` on v3.1.11, which has no
 * expired status. Each body valid against its version's OpenAPI file.
 */
const harness = (version: ApiVersion) =>
  createHarness({
    prefix: VERSION_BASES[version].cbpii,
    signed: false,
    mount: (scope, context) =>
      fundsConfirmation(scope, {
        db: context.db,
        clock: context.clock,
        guard: context.guard,
        notifyRevoked: async (id) => context.forgetIntent(id),
        publicBaseUrl: `https://bank.example${VERSION_BASES[version].cbpii}`,
        version,
      }),
  });

const EXPIRED_REASON = 'The consent passed its expiry date: it can no longer be authorised or used.';

const SPEC: Record<ApiVersion, string> = { 'v3.1.11': COF_V3_1_11, 'v4.0': COF_V4_0 };
const EXPECTED: Record<ApiVersion, { before: string; after: string }> = {
  'v3.1.11': { before: 'AwaitingAuthorisation', after: 'AwaitingAuthorisation' },
  'v4.0': { before: 'AWAU', after: 'EXPD' },
};

describe('a consent that expires before the PSU authorises it', () => {
  for (const version of ['v4.0', 'v3.1.11'] as const) {
    it(`reads ${EXPECTED[version].after} on ${version} once past its ExpirationDateTime`, async () => {
      const h = await harness(version);
      const expiry = new Date(h.clock.now().getTime() + 60 * 60_000);
      const staged = await h.post('/funds-confirmation-consents', {
        Data: {
          ExpirationDateTime: expiry.toISOString(),
          DebtorAccount: {
            SchemeName: 'UK.OBIE.SortCodeAccountNumber',
            Identification: `${h.alice.sortCode}${h.alice.accountNumber}`,
            Name: h.alice.name,
          },
        },
      });
      assert.equal(staged.status, 201, staged.text);
      const consentId = String(staged.body.Data?.ConsentId);
      const read = async () => {
        const response = await h.get(`/funds-confirmation-consents/${consentId}`);
        assert.equal(response.status, 200, response.text);
        assertValidResponse(
          SPEC[version],
          `/funds-confirmation-consents/${consentId}`,
          'get',
          response.status,
          response.body,
        );
        return response.body.Data as { Status?: string; StatusReason?: unknown } | undefined;
      };
      const before = await read();
      assert.equal(before?.Status, EXPECTED[version].before);
      assert.equal(before?.StatusReason, undefined);
      h.clock.set(new Date(expiry.getTime() + 60_000));
      const after = await read();
      assert.equal(after?.Status, EXPECTED[version].after);
      // v4.0: "the status change should be captured in StatusReason"; v3.1.11 has no such field.
      assert.deepEqual(
        after?.StatusReason,
        version === 'v4.0' ? [{ StatusReasonDescription: EXPIRED_REASON }] : undefined,
      );
    });
  }
});
