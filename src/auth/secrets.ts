import { randomBytes, randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { exportJWK, generateKeyPair } from 'jose';
import type { JWK } from 'jose';
import type { Queryable } from '../store/index.ts';
import { authModels } from '../store/schema/auth.ts';

/**
 * What the authorization server signs with and seals its cookies with. Every instance behind a load
 * balancer must hold the same, so they live in the database (model `ProviderSecrets`), created once by
 * whichever instance starts first: `insert … on conflict do nothing`, then everyone reads the winner.
 */
export interface ProviderSecrets {
  /** Private JWKs (PS256 RSA keys), newest first; the first signs, all verify. */
  signingKeys: JWK[];
  /** Keygrip keys for the provider's signed cookies, newest first. */
  cookieKeys: string[];
  /** Salt of the pairwise subject identifiers: changing it changes every `sub`. */
  pairwiseSalt: string;
}

const MODEL = 'ProviderSecrets';
const ID = 'current';

export async function generateProviderSecrets(): Promise<ProviderSecrets> {
  const { privateKey } = await generateKeyPair('PS256', { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(privateKey);
  return {
    signingKeys: [{ ...jwk, kid: randomUUID(), alg: 'PS256', use: 'sig' }],
    cookieKeys: [randomBytes(32).toString('base64url')],
    pairwiseSalt: randomBytes(32).toString('base64url'),
  };
}

export async function loadOrCreateProviderSecrets(db: Queryable): Promise<ProviderSecrets> {
  const existing = await readSecrets(db);
  if (existing) return existing;
  const fresh = await generateProviderSecrets();
  await db
    .insert(authModels)
    .values({ model: MODEL, id: ID, payload: fresh })
    .onConflictDoNothing({ target: [authModels.model, authModels.id] });
  const stored = await readSecrets(db);
  if (!stored) throw new Error('the authorization server secrets could not be stored');
  return stored;
}

async function readSecrets(db: Queryable): Promise<ProviderSecrets | undefined> {
  const [row] = await db
    .select({ payload: authModels.payload })
    .from(authModels)
    .where(and(eq(authModels.model, MODEL), eq(authModels.id, ID)))
    .limit(1);
  if (!row) return undefined;
  const payload = row.payload as Partial<ProviderSecrets>;
  if (
    !Array.isArray(payload.signingKeys) ||
    payload.signingKeys.length === 0 ||
    !Array.isArray(payload.cookieKeys) ||
    typeof payload.pairwiseSalt !== 'string'
  ) {
    throw new Error('the stored authorization server secrets are malformed');
  }
  return payload as ProviderSecrets;
}
