import type { FastifyInstance } from 'fastify';
import {
  createIntent,
  type ConsentContext,
  type Intent,
  type RevocationNotifier,
} from '../../consent/index.ts';
import type { Clock } from '../../shared/clock.ts';
import { ObError } from '../errors.ts';
import { guard, guarded, guardProfiles, type GuardDependencies } from '../guard/index.ts';
import { consentDeletionRoute } from '../http/consent-deletion.ts';
import { asObError } from '../http/intent-errors.ts';
import { obDateTime, selfUrl } from '../http/wire.ts';
import { ownedConsent } from '../http/owned-resources.ts';
import { consentStatusOn, type ApiVersion } from '../versions.ts';
import { assertConsentVersion } from '../http/consent-version.ts';
import { consentStatusReason, type ObStatusReason } from '../http/consent-status-reason.ts';

export interface AccountAccessConsentsContext {
  db: ConsentContext['db'];
  clock: Clock;
  guard: GuardDependencies;
  notifyRevoked: RevocationNotifier;
  publicBaseUrl: string;
  /** The API version these routes serve (v3.1.11 unless said): the consent's wire status, which consents they accept. */
  version?: ApiVersion;
}

/** OBReadConsentResponse1 from an intent, as `version` writes it (v3.1.11 unless said); `statusReason` on v4.0. */
export function accountAccessConsentBody(
  intent: Intent,
  self: string,
  on: { version: ApiVersion; now: Date } = { version: 'v3.1.11', now: new Date() },
  statusReason?: ObStatusReason[],
) {
  const data = intent.data as { TransactionFromDateTime?: string; TransactionToDateTime?: string };
  return {
    Data: {
      ConsentId: intent.id,
      CreationDateTime: obDateTime(intent.createdAt),
      Status: consentStatusOn(on.version, intent, on.now),
      ...(statusReason ? { StatusReason: statusReason } : {}),
      StatusUpdateDateTime: obDateTime(intent.statusUpdatedAt),
      Permissions: intent.permissions,
      ...(intent.expiresAt ? { ExpirationDateTime: obDateTime(intent.expiresAt) } : {}),
      ...(data.TransactionFromDateTime ? { TransactionFromDateTime: data.TransactionFromDateTime } : {}),
      ...(data.TransactionToDateTime ? { TransactionToDateTime: data.TransactionToDateTime } : {}),
    },
    Risk: intent.risk,
    Links: { Self: self },
    Meta: { TotalPages: 1 },
  };
}

/** POST / GET / DELETE account-access-consents: the AISP stages, reads and withdraws its consents. */
export async function accountAccessConsents(
  scope: FastifyInstance,
  context: AccountAccessConsentsContext,
): Promise<void> {
  const preHandler = guard(guardProfiles.consentEndpoint('accounts'), context.guard);
  const ctx = { db: context.db, clock: context.clock };

  scope.post('/account-access-consents', { preHandler }, async (request, reply) => {
    const body = request.body as { Data?: unknown; Risk?: unknown } | undefined;
    if (!body || typeof body !== 'object')
      throw ObError.single(400, 'UK.OBIE.Field.Missing', 'the body must be an OBReadConsent1 JSON object');
    if (typeof body.Data !== 'object' || body.Data === null)
      throw ObError.single(400, 'UK.OBIE.Field.Missing', 'Data is required', 'Data');
    if (typeof body.Risk !== 'object' || body.Risk === null)
      throw ObError.single(400, 'UK.OBIE.Field.Missing', 'Risk is required', 'Risk');
    const intent = await createIntent(ctx, {
      kind: 'account-access',
      clientId: guarded(request).token.clientId,
      data: body.Data as Record<string, unknown>,
      risk: body.Risk as Record<string, unknown>,
      apiVersion: version,
    }).catch(asObError);
    const self = `${selfUrl(request, context.publicBaseUrl)}/${intent.id}`;
    return reply.status(201).send(accountAccessConsentBody(intent, self, on()));
  });

  const version = context.version ?? 'v3.1.11';
  const on = () => ({ version, now: context.clock.now() });
  const owned = async (clientId: string, consentId: string) =>
    assertConsentVersion(
      await ownedConsent(context.db, clientId, consentId, 'account-access'),
      version,
      'consent',
    );

  scope.get<{ Params: { ConsentId: string } }>(
    '/account-access-consents/:ConsentId',
    { preHandler },
    async (request) => {
      const intent = await owned(guarded(request).token.clientId, request.params.ConsentId);
      const at = on();
      return accountAccessConsentBody(
        intent,
        selfUrl(request, context.publicBaseUrl),
        at,
        await consentStatusReason(context.db, intent, version, at.now),
      );
    },
  );

  consentDeletionRoute(scope, '/account-access-consents/:ConsentId', preHandler, owned, {
    ...ctx,
    notifyRevoked: context.notifyRevoked,
  });
}
