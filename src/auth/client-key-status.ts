import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import type { PublishedKey, SigningKeyStatus } from '../shared/signing-key-status.ts';

/**
 * The view of oidc-provider's client key store (pinned oidc-provider 9, lib/models/client.js) that its JWT
 * verification uses: `selectForVerify` picks candidate keys, then each is awaited through `getKeyObject`
 * (lib/helpers/jwt.js `verify`). That await is the one hook where a key can be refused per verification,
 * whatever the store's fetched `jwks_uri` copy (kept at least 60 s) still lists.
 */
interface ClientKeyStore {
  selectForVerify(options: { alg?: string; kid?: string }): object[];
  getKeyObject(jwk: object, asymmetric?: boolean): unknown;
}

interface ClientWithKeys {
  asymmetricKeyStore?: ClientKeyStore;
}

/** Why a key was refused in the request being answered, for its error description. */
const refusals = new WeakMap<object, string>();

/** The errors a refused key surfaces as: request objects, and client assertions. */
const REFUSED_AS = new Set(['invalid_request_object', 'invalid_client']);

/**
 * Request objects (at /authorize, PAR and CIBA), client assertions (token, PAR, introspection, revocation,
 * CIBA) and CIBA login hint tokens are verified with the client's keys: a key `status` refuses is never
 * used. oidc-provider then answers as for a signature that does not verify (`invalid_request_object`,
 * `invalid_client`); the error description says why.
 */
export function refuseRevokedClientKeys(provider: Provider, status: SigningKeyStatus): void {
  const guarded = new WeakSet<ClientKeyStore>();
  const guard = (keystore: ClientKeyStore): void => {
    if (guarded.has(keystore)) return;
    guarded.add(keystore);
    const forVerification = new WeakSet<object>();
    const select = keystore.selectForVerify.bind(keystore);
    const keyObject = keystore.getKeyObject.bind(keystore);
    keystore.selectForVerify = (options) => {
      const keys = select(options);
      for (const key of keys) forVerification.add(key);
      return keys;
    };
    // Encryption keys (never used: the provider's encryption feature is off) keep the synchronous path.
    keystore.getKeyObject = (jwk, asymmetric) => {
      if (!forVerification.has(jwk)) return keyObject(jwk, asymmetric);
      return (async () => {
        const refusal = await status.refusalOf(jwk as PublishedKey);
        if (refusal !== undefined) {
          const ctx = Provider.ctx;
          if (ctx) refusals.set(ctx, refusal);
          throw new Error(refusal);
        }
        return keyObject(jwk, asymmetric);
      })();
    };
  };

  const find = provider.Client.find.bind(provider.Client);
  provider.Client.find = async (id: string) => {
    const client = await find(id);
    const keystore = (client as ClientWithKeys | undefined)?.asymmetricKeyStore;
    if (keystore) guard(keystore);
    return client;
  };

  provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<unknown>) => {
    await next();
    const refusal = refusals.get(ctx);
    const body = ctx.body as { error?: unknown; error_description?: unknown } | undefined;
    if (refusal && typeof body?.error === 'string' && REFUSED_AS.has(body.error)) {
      body.error_description = refusal;
    }
  });
}
