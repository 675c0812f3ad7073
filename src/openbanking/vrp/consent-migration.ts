import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { isUsable, migrateIntent, type Intent } from '../../consent/index.ts';
import { applyJsonPatch, JsonPatchError, type JsonValue } from '../../shared/json-patch.ts';
import { ObError } from '../errors.ts';
import { guard, guarded, guardProfiles } from '../guard/index.ts';
import { assertConsentVersion } from '../http/consent-version.ts';
import { idempotencyScopeOf, idempotent, sendOutcome } from '../http/idempotency.ts';
import { asObError } from '../http/intent-errors.ts';
import { acceptRawJson, requireSignature } from '../http/jws.ts';
import { ownedConsent } from '../http/owned-resources.ts';
import { clientIdOf, type PaymentsContext } from '../pis/common.ts';
import { parseBody } from '../pis/validation.ts';
import type { ApiVersion } from '../versions.ts';
import { runConsentChecks, type VrpConsentRequest } from './consent-checks.ts';
import { vrpConsentResource } from './consent-resource.ts';
import type { VrpMigration, VrpWireMapping } from './wire-mappings.ts';

/** An RFC 6902 patch document: an array of operations, each exactly as the RFC spells it. */
const patchSchema = z.array(
  z.union([
    z.strictObject({ op: z.enum(['add', 'replace', 'test']), path: z.string(), value: z.json() }),
    z.strictObject({ op: z.literal('remove'), path: z.string() }),
    z.strictObject({ op: z.enum(['move', 'copy']), from: z.string(), path: z.string() }),
  ]),
);

/** A JSON Pointer (`/Risk/DeliveryAddress`) as an OB error path (`Risk.DeliveryAddress`). */
const pathOf = (pointer: string) =>
  pointer
    .split('/')
    .slice(1)
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');

function patchOf(body: unknown): z.infer<typeof patchSchema> {
  if (!Array.isArray(body))
    throw ObError.single(
      400,
      'UK.OBIE.Resource.InvalidFormat',
      'a JSON Patch body is an array of operations (RFC 6902)',
    );
  const parsed = patchSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const [index] = parsed.error.issues[0]?.path ?? [];
  throw ObError.single(
    400,
    'UK.OBIE.Field.Invalid',
    `operation ${String(index)} is not an RFC 6902 operation (op add, remove, replace, move, copy or test, with its path, value or from)`,
    `[${String(index)}]`,
  );
}

/**
 * `PUT` and `PATCH /domestic-vrp-consents/{ConsentId}` (v4.0): a TPP moves a consent authorised on an
 * older version to this one, by the whole v4.0 body (PUT) or an RFC 6902 patch of the consent as it was
 * staged (PATCH, `application/json-patch+json`). Client credentials, signed request and response, an
 * idempotency key; 200 with the consent as this version shows it. What may change is the version's rule
 * (`migration`, e.g. v4.0/migration.ts); the consent keeps its id, status, PSU, accounts and the limits
 * it has used (the payments made under it stay its payments).
 */
export function vrpConsentMigration(
  scope: FastifyInstance,
  context: PaymentsContext,
  version: ApiVersion,
  wire: VrpWireMapping,
  migration: VrpMigration,
): void {
  const { clock } = context;
  const consentGuard = guard(guardProfiles.consentEndpoint('payments'), context.guard);
  const signed = requireSignature(context.signatures, clientIdOf);

  async function migrate(
    request: FastifyRequest<{ Params: { ConsentId: string } }>,
    reply: FastifyReply,
    requestedBody: (intent: Intent) => unknown,
  ): Promise<FastifyReply> {
    const clientId = guarded(request).token.clientId;
    // Everything runs under the idempotency key, so a retry of a migration that went through gets its answer.
    const outcome = await idempotent(context, idempotencyScopeOf(request, clientId), async (tx) => {
      const intent = assertConsentVersion(
        await ownedConsent(tx, clientId, request.params.ConsentId, 'domestic-vrp'),
        version,
        'consent',
      );
      const staged = intent.apiVersion ?? 'v3.1.11';
      if (staged === version)
        throw ObError.single(
          400,
          'UK.OBIE.Field.Invalid',
          `consent ${intent.id} was staged on ${version}: it needs no migration, and PUT or PATCH may not change it`,
        );
      if (!isUsable(intent, clock.now()))
        throw ObError.single(
          400,
          'UK.OBIE.Resource.InvalidConsentStatus',
          `consent ${intent.id} is ${intent.status}${intent.status === 'Authorised' ? ' but has expired' : ''}: only an authorised consent is migrated`,
        );
      const requested = parseBody(migration.request, requestedBody(intent));
      await runConsentChecks(wire.consentChecks, requested as VrpConsentRequest, { db: tx });
      const { data, risk } = migration.migrate(intent, requested);
      const migrated = await migrateIntent({ db: tx, clock }, intent.id, {
        fromVersion: staged,
        toVersion: version,
        data,
        risk,
        detail: `moved from ${staged} to ${version} by ${request.method}`,
      }).catch(asObError);
      const self = `${context.publicBaseUrl}/domestic-vrp-consents/${intent.id}`;
      return { status: 200, body: await vrpConsentResource(tx, wire, version, migrated, clock.now(), self) };
    });
    // The guard's cached copy still names the old version.
    if (!outcome.replayed) context.forgetIntent(request.params.ConsentId);
    return sendOutcome(reply, outcome);
  }

  scope.put<{ Params: { ConsentId: string } }>(
    '/domestic-vrp-consents/:ConsentId',
    { preHandler: [consentGuard, signed] },
    (request, reply) => migrate(request, reply, () => request.body),
  );

  // PATCH takes application/json-patch+json only (the file's one media type for it), in a scope of its own.
  scope.register(async (patchScope) => {
    patchScope.removeContentTypeParser('application/json');
    acceptRawJson(patchScope, 'application/json-patch+json');
    patchScope.patch<{ Params: { ConsentId: string } }>(
      '/domestic-vrp-consents/:ConsentId',
      { preHandler: [consentGuard, signed] },
      (request, reply) => {
        const patch = patchOf(request.body);
        return migrate(request, reply, (intent) => {
          try {
            return applyJsonPatch(migration.document(intent) as JsonValue, patch);
          } catch (error) {
            if (!(error instanceof JsonPatchError)) throw error;
            throw ObError.single(
              400,
              'UK.OBIE.Field.Invalid',
              `patch operation ${error.operation} failed, so none was applied: ${error.message}`,
              pathOf(error.pointer) || `[${error.operation}]`,
            );
          }
        });
      },
    );
  });
}
