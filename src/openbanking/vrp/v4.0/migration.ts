import type { Intent } from '../../../consent/index.ts';
import { ObError } from '../../errors.ts';
import { riskOnV4, riskSchema } from '../../pis/v4.0/mapping.ts';
import { canonicalJson } from '../../pis/validation.ts';
import { vrpPartOnV4, type VrpConsentRequestV4 } from './mapping.ts';

/**
 * Moving a VRP consent staged and authorised on v3.1.11 to v4.0 without asking the PSU again
 * (`PUT`/`PATCH /domestic-vrp-consents/{ConsentId}`; VRP profile v4.0, "Migration of a consent to a new
 * version", and the v4.0 Domestic VRP consents page):
 *
 *  - only for migration across versions: a consent already on v4.0 "does not require migration" and the
 *    request is rejected;
 *  - the body is the consent in v4.0's schema, "with any associated enumeration values that have moved to
 *    short code format"; "values originally supplied in the consent such as account information, control
 *    parameters, dates or monetary values must not change and the ASPSP must reject any requests which
 *    modify these values".
 *
 * Read strictly: the migrated consent must be the v4.0 form of what the PSU authorised, field for field —
 * the bank computes that form itself (mapping.ts, as it does to show a v3.1.11 consent on v4.0) and
 * compares. The one place the TPP chooses is a value v3.1.11 had and v4.0 has no code for (a
 * `Risk.PaymentContextCode` v4.0 dropped, such as `PartyToParty`): it may name a v4.0 code there or leave
 * it out. A field new in v4.0 (UltimateCreditor, RegulatoryReporting, …) was not authorised, so it may
 * not be added by a migration either.
 */

/** A consent as its request body: the document a PATCH applies to (in the consent's stored form). */
export function consentDocument(intent: Intent): Record<string, unknown> {
  const { ReadRefundAccount, ControlParameters, Initiation } = intent.data;
  return {
    Data: {
      ...(ReadRefundAccount !== undefined ? { ReadRefundAccount } : {}),
      ControlParameters,
      Initiation,
    },
    Risk: intent.risk,
  };
}

/** The v4.0 form of an authorised consent, as a v4.0 consent request would carry it. */
export function consentOnV4(intent: Intent): Record<string, unknown> {
  const document = consentDocument(intent) as {
    Data: Record<string, unknown>;
    Risk: Record<string, unknown>;
  };
  return {
    Data: { ...document.Data, Initiation: vrpPartOnV4(intent.data.Initiation) },
    Risk: riskOnV4(intent.risk),
  };
}

type Json = Record<string, unknown>;
const isJson = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The first path (`Data.ControlParameters.PeriodicLimits.0.Amount`) where `actual` is not `expected`. */
export function firstDifference(expected: unknown, actual: unknown, path: string): string | undefined {
  if (isJson(expected) && isJson(actual)) {
    const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
    for (const key of keys) {
      const found = firstDifference(expected[key], actual[key], path ? `${path}.${key}` : key);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (Array.isArray(expected) && Array.isArray(actual) && expected.length === actual.length) {
    for (const [index, item] of expected.entries()) {
      const found = firstDifference(item, actual[index], `${path}.${index}`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  return canonicalJson(expected ?? null) === canonicalJson(actual ?? null) ? undefined : path;
}

function valueAt(document: unknown, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>(
      (value, key) => (isJson(value) || Array.isArray(value) ? (value as Json)[key] : undefined),
      document,
    );
}

const V4_PAYMENT_CONTEXTS: readonly string[] = riskSchema.shape.PaymentContextCode.unwrap().options;

/**
 * Checks a requested v4.0 body against the consent as authorised; returns the consent's v4.0 `Data` and
 * `Risk` to store. A difference the rules above do not allow is refused, naming the field and the value
 * the PSU authorised: 400 `UK.OBIE.Resource.ConsentMismatch` (v4.0 `U008`), the request not being the
 * consent it claims to migrate.
 */
export function migratedConsent(intent: Intent, requested: VrpConsentRequestV4): { data: Json; risk: Json } {
  const expected = consentOnV4(intent) as { Data: Json; Risk: Json };
  const storedContext = intent.risk.PaymentContextCode;
  if (typeof storedContext === 'string' && !V4_PAYMENT_CONTEXTS.includes(storedContext)) {
    // v3.1.11's code has no v4.0 equivalent: the TPP names the v4.0 code that fits, or none.
    const { PaymentContextCode: _dropped, ...rest } = expected.Risk;
    expected.Risk = {
      ...rest,
      ...(requested.Risk.PaymentContextCode !== undefined
        ? { PaymentContextCode: requested.Risk.PaymentContextCode }
        : {}),
    };
  }
  const path = firstDifference(expected, requested, '');
  if (path !== undefined) {
    const authorised = valueAt(expected, path);
    throw ObError.single(
      400,
      'UK.OBIE.Resource.ConsentMismatch',
      `a migration may not change the consent the PSU authorised: ${path} ` +
        (authorised === undefined
          ? 'was not part of it'
          : `must be ${canonicalJson(authorised)}, the v4.0 form of what was authorised`),
      path,
    );
  }
  return { data: requested.Data as Json, risk: requested.Risk as Json };
}
