import { and, eq, sql } from 'drizzle-orm';
import type { ClientMetadata } from 'oidc-provider';
import type { Queryable } from '../../store/index.ts';
import { authModels } from '../../store/schema/auth.ts';
import type { StoredRegistration } from './types.ts';

/** The DCR response body of a registered client, stored beside the provider's `Client` row. */
export const REGISTRATION_MODEL = 'DcrRegistration';
/** Registration request `jti`s already used, per software. */
export const JTI_MODEL = 'DcrRequestJti';

/** A registered client (not configured ones) with its registration response. */
export async function findRegistration(
  db: Queryable,
  clientId: string,
): Promise<StoredRegistration | undefined> {
  const rows = await db
    .select({ model: authModels.model, payload: authModels.payload })
    .from(authModels)
    .where(and(eq(authModels.id, clientId), sql`${authModels.model} in ('Client', ${REGISTRATION_MODEL})`));
  const client = rows.find((row) => row.model === 'Client');
  const registration = rows.find((row) => row.model === REGISTRATION_MODEL);
  if (!client || !registration) return undefined;
  return {
    metadata: client.payload as ClientMetadata,
    response: registration.payload as Record<string, unknown>,
  };
}

/** Stores (or replaces) the client and its registration response together. */
export async function saveRegistration(
  db: Queryable,
  clientId: string,
  registration: StoredRegistration,
): Promise<void> {
  await db.transaction(async (tx) => {
    for (const [model, payload] of [
      ['Client', registration.metadata],
      [REGISTRATION_MODEL, registration.response],
    ] as const) {
      await tx
        .insert(authModels)
        .values({ model, id: clientId, payload })
        .onConflictDoUpdate({ target: [authModels.model, authModels.id], set: { payload } });
    }
  });
}

/** Deletes the client, its registration, and every token and grant it holds. */
export async function deleteRegistration(db: Queryable, clientId: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx
      .delete(authModels)
      .where(and(eq(authModels.id, clientId), sql`${authModels.model} in ('Client', ${REGISTRATION_MODEL})`));
    await tx.delete(authModels).where(sql`${authModels.payload} ->> 'clientId' = ${clientId}`);
  });
}
