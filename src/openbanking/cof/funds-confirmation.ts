import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { findAccountByIdentification, fundsAvailable } from '../../bank/index.ts';
import { createIntent, recordUse, type Intent, type RevocationNotifier } from '../../consent/index.ts';
import type { Clock } from '../../shared/clock.ts';
import { ObError } from '../errors.ts';
import { guard, guarded, guardedWithConsent, guardProfiles, type GuardDependencies } from '../guard/index.ts';
import type { Db } from '../http/idempotency.ts';
import { consentDeletionRoute } from '../http/consent-deletion.ts';
import { asObError } from '../http/intent-errors.ts';
import { obDateTime } from '../http/wire.ts';
import { assertConsentId, debtorAccount } from '../pis/common.ts';
import {
  accountSchema,
  amountToMinor,
  checkAccount,
  instructedAmountSchema,
  parseBody,
} from '../pis/validation.ts';
import { ownedConsent } from '../http/owned-resources.ts';
import { assertConsentVersion } from '../http/consent-version.ts';
import { consentStatusReason, type ObStatusReason } from '../http/consent-status-reason.ts';
import { consentStatusOn, type ApiVersion } from '../versions.ts';

export interface FundsConfirmationContext {
  db: Db;
  clock: Clock;
  guard: GuardDependencies;
  notifyRevoked: RevocationNotifier;
  /** e.g. `https://bank.example/open-banking/v3.1/cbpii`. */
  publicBaseUrl: string;
  /** The API version these routes serve (v3.1.11 unless said): consent statuses, which consents they accept. */
  version?: ApiVersion;
}

const consentRequest = z.strictObject({
  Data: z.strictObject({
    ExpirationDateTime: z.string().optional(),
    DebtorAccount: accountSchema,
  }),
});

const confirmationRequest = z.strictObject({
  Data: z.strictObject({
    ConsentId: z.string().min(1).max(128),
    Reference: z.string().min(1).max(35),
    InstructedAmount: instructedAmountSchema,
  }),
});

/** OBFundsConfirmationConsentResponse1 of an intent, as `version` writes it. */
function consentBody(
  intent: Intent,
  self: string,
  version: ApiVersion,
  now: Date,
  statusReason?: ObStatusReason[],
) {
  return {
    Data: {
      ConsentId: intent.id,
      CreationDateTime: obDateTime(intent.createdAt),
      Status: consentStatusOn(version, intent, now),
      ...(statusReason ? { StatusReason: statusReason } : {}),
      StatusUpdateDateTime: obDateTime(intent.statusUpdatedAt),
      ...(intent.expiresAt ? { ExpirationDateTime: obDateTime(intent.expiresAt) } : {}),
      DebtorAccount: intent.data.DebtorAccount,
    },
    Links: { Self: self },
    Meta: {},
  };
}

/**
 * Confirmation of Funds (CBPII, v3.1.11): funds-confirmation consents (POST, GET, DELETE) with the CBPII's
 * client_credentials token, and `POST /funds-confirmations` with the PSU-authorised token, answered from
 * the ledger's available balance plus the account's credit limit.
 */
export async function fundsConfirmation(
  scope: FastifyInstance,
  context: FundsConfirmationContext,
): Promise<void> {
  const { db, clock } = context;
  const base = context.publicBaseUrl;
  const version = context.version ?? 'v3.1.11';
  const consentGuard = guard(guardProfiles.consentEndpoint('fundsconfirmations'), context.guard);

  scope.post('/funds-confirmation-consents', { preHandler: consentGuard }, async (request, reply) => {
    const clientId = guarded(request).token.clientId;
    const body = parseBody(consentRequest, request.body);
    const debtor = body.Data.DebtorAccount;
    checkAccount(debtor, 'Data.DebtorAccount');
    if (!(await findAccountByIdentification(db, debtor.SchemeName, debtor.Identification)))
      throw ObError.single(
        400,
        'UK.OBIE.Field.Invalid',
        'the debtor account is not an account of this bank',
        'Data.DebtorAccount',
      );
    const intent = await createIntent(
      { db, clock },
      { kind: 'funds-confirmation', clientId, data: body.Data, risk: {}, apiVersion: version },
    ).catch(asObError);
    return reply
      .status(201)
      .send(consentBody(intent, `${base}/funds-confirmation-consents/${intent.id}`, version, clock.now()));
  });

  const owned = async (clientId: string, consentId: string) =>
    assertConsentVersion(
      await ownedConsent(db, clientId, consentId, 'funds-confirmation'),
      version,
      'consent',
    );

  scope.get<{ Params: { ConsentId: string } }>(
    '/funds-confirmation-consents/:ConsentId',
    { preHandler: consentGuard },
    async (request) => {
      const intent = await owned(guarded(request).token.clientId, request.params.ConsentId);
      const now = clock.now();
      return consentBody(
        intent,
        `${base}/funds-confirmation-consents/${intent.id}`,
        version,
        now,
        await consentStatusReason(db, intent, version, now),
      );
    },
  );

  consentDeletionRoute(scope, '/funds-confirmation-consents/:ConsentId', consentGuard, owned, {
    db,
    clock,
    notifyRevoked: context.notifyRevoked,
  });

  scope.post(
    '/funds-confirmations',
    {
      preHandler: guard(
        guardProfiles.authorisedConsent('fundsconfirmations', ['funds-confirmation']),
        context.guard,
      ),
    },
    async (request, reply) => {
      const intent = guardedWithConsent(request).intent;
      assertConsentVersion(intent, version, 'data');
      const body = parseBody(confirmationRequest, request.body);
      assertConsentId(intent, body.Data.ConsentId);
      const amountMinor = amountToMinor(body.Data.InstructedAmount, 'Data.InstructedAmount');
      const account = await debtorAccount(
        db,
        intent,
        intent.data.DebtorAccount as { SchemeName: string; Identification: string } | undefined,
        'Data.DebtorAccount',
      );
      const available = await fundsAvailable(
        db,
        account.id,
        amountMinor,
        body.Data.InstructedAmount.Currency,
      );
      await recordUse({ db, clock }, intent.id, `funds confirmation ${body.Data.Reference}`).catch(asObError);
      return reply.status(201).send({
        Data: {
          FundsConfirmationId: `fc-${randomUUID()}`,
          ConsentId: intent.id,
          CreationDateTime: obDateTime(clock.now()),
          FundsAvailable: available,
          Reference: body.Data.Reference,
          InstructedAmount: body.Data.InstructedAmount,
        },
        Links: { Self: `${base}/funds-confirmations` },
        Meta: {},
      });
    },
  );
}
