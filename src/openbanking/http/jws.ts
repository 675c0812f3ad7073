import { createHash } from 'node:crypto';
import { OB_CLAIMS, OB_CRITICAL, OB_IAT, OB_ISS, OB_TAN } from '../../shared/ob-jws-claims.ts';
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import {
  CompactSign,
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  errors,
  flattenedVerify,
  type CryptoKey,
  type JSONWebKeySet,
  type KeyObject,
} from 'jose';
import type { Clock } from '../../shared/clock.ts';
import type { LocalJwks } from '../../shared/local-jwks.ts';
import {
  publishedStatusOnly,
  type PublishedKey,
  type SigningKeyStatus,
} from '../../shared/signing-key-status.ts';
import { ObError, type ObErrorCode } from '../errors.ts';

/**
 * Open Banking message signing (Read/Write ≥ 3.1.4): `x-jws-signature` is a PS256 JWS over the exact body
 * bytes with the payload left out (`header..signature`), no `b64` header, and `crit` naming the three OB
 * claims `http://openbanking.org.uk/{iat,iss,tan}`. Requests are verified against the TPP's directory JWKS
 * (through an injected resolver); responses are signed with the bank's key (an injected signer).
 */

export type VerificationKey = CryptoKey | KeyObject | Uint8Array;

/** A TPP's signing key, found by `kid` in the JWKS of the software that client was registered for. */
export interface ResolvedSigningKey {
  key: VerificationKey;
  /** The `http://openbanking.org.uk/iss` values this TPP may sign as (e.g. `<org id>/<software id>`). */
  issuers: readonly string[];
}

/** Resolves a client's signing key by `kid`; undefined when that software publishes no such key. */
export interface SigningKeyResolver {
  keyFor(clientId: string, kid: string): Promise<ResolvedSigningKey | undefined>;
}

/** Signs a response body (the exact bytes sent) as a detached OB JWS. */
export interface ResponseSigner {
  sign(body: string): Promise<string>;
}

export interface SignatureVerifierOptions {
  keys: SigningKeyResolver;
  /** The `http://openbanking.org.uk/tan` every signature must name: the directory's trust anchor. */
  trustAnchor: string;
  clock: Clock;
  /** How far in the future an `iat` may be (clock skew between TPP and bank). Default 30 s. */
  maxFutureSkewSeconds?: number;
}

export interface VerifiedSignature {
  kid: string;
  issuer: string;
  issuedAt: Date;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The exact bytes of the request body, kept for signature checks and idempotency hashing. */
    rawBody?: Buffer;
  }
}

function refuse(code: ObErrorCode, message: string): ObError {
  return ObError.single(400, code, message, 'x-jws-signature');
}

const B64URL = /^[A-Za-z0-9_-]+$/;

function decodeHeader(segment: string): Record<string, unknown> {
  if (!B64URL.test(segment)) throw refuse('UK.OBIE.Signature.Malformed', 'the JWS header is not base64url');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw refuse('UK.OBIE.Signature.Malformed', 'the JWS header is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw refuse('UK.OBIE.Signature.Malformed', 'the JWS header is not a JSON object');
  return parsed as Record<string, unknown>;
}

/**
 * Verifies a detached `x-jws-signature` over `body` for `clientId`. Throws an ObError (400,
 * UK.OBIE.Signature.*) naming what is wrong; returns what the signature asserted when it holds.
 */
export async function verifyDetachedSignature(
  options: SignatureVerifierOptions,
  clientId: string,
  signature: string | string[] | undefined,
  body: Uint8Array,
): Promise<VerifiedSignature> {
  if (signature === undefined || signature === '')
    throw refuse('UK.OBIE.Signature.Missing', 'the x-jws-signature header is required');
  if (typeof signature !== 'string')
    throw refuse('UK.OBIE.Signature.Malformed', 'send one x-jws-signature header');
  const parts = signature.split('.');
  if (parts.length !== 3 || !parts[0] || !parts[2])
    throw refuse('UK.OBIE.Signature.Malformed', 'x-jws-signature must be a detached JWS "header..signature"');
  if (parts[1] !== '')
    throw refuse(
      'UK.OBIE.Signature.Malformed',
      'x-jws-signature must be detached: its payload part must be empty',
    );
  if (!B64URL.test(parts[2]))
    throw refuse('UK.OBIE.Signature.Malformed', 'the JWS signature is not base64url');
  const header = decodeHeader(parts[0]);

  if (header.alg !== 'PS256')
    throw refuse('UK.OBIE.Signature.Invalid', `the JWS alg must be PS256, not ${JSON.stringify(header.alg)}`);
  if ('b64' in header)
    throw refuse('UK.OBIE.Signature.Unexpected', 'the b64 header is not used from Read/Write 3.1.4 on');
  if (typeof header.kid !== 'string' || header.kid === '')
    throw refuse('UK.OBIE.Signature.MissingClaim', 'the JWS header has no kid');
  for (const claim of OB_CLAIMS) {
    if (!(claim in header)) throw refuse('UK.OBIE.Signature.MissingClaim', `the JWS header has no ${claim}`);
  }
  const crit = header.crit;
  if (
    !Array.isArray(crit) ||
    crit.length !== OB_CLAIMS.length ||
    !OB_CLAIMS.every((claim) => crit.includes(claim))
  ) {
    throw refuse('UK.OBIE.Signature.InvalidClaim', `crit must list exactly ${OB_CLAIMS.join(', ')}`);
  }
  const iat = header[OB_IAT];
  if (typeof iat !== 'number' || !Number.isInteger(iat) || iat <= 0)
    throw refuse('UK.OBIE.Signature.InvalidClaim', `${OB_IAT} must be a NumericDate (seconds)`);
  const skew = options.maxFutureSkewSeconds ?? 30;
  if (iat * 1000 > options.clock.now().getTime() + skew * 1000)
    throw refuse('UK.OBIE.Signature.InvalidClaim', `${OB_IAT} is in the future`);
  if (header[OB_TAN] !== options.trustAnchor)
    throw refuse('UK.OBIE.Signature.InvalidClaim', `${OB_TAN} must be ${options.trustAnchor}`);
  const iss = header[OB_ISS];
  if (typeof iss !== 'string' || iss === '')
    throw refuse('UK.OBIE.Signature.InvalidClaim', `${OB_ISS} must be a string`);

  const resolved = await options.keys.keyFor(clientId, header.kid);
  if (!resolved)
    throw refuse('UK.OBIE.Signature.Invalid', `no signing key ${header.kid} in the software's JWKS`);
  if (!resolved.issuers.includes(iss))
    throw refuse(
      'UK.OBIE.Signature.InvalidClaim',
      `${OB_ISS} ${iss} is not this TPP: under ${options.trustAnchor} it signs as ${resolved.issuers.join(' or ')}`,
    );
  try {
    await flattenedVerify(
      { protected: parts[0], payload: Buffer.from(body).toString('base64url'), signature: parts[2] },
      resolved.key,
      { algorithms: ['PS256'], crit: OB_CRITICAL },
    );
  } catch {
    throw refuse('UK.OBIE.Signature.Invalid', 'the signature does not match the body');
  }
  return { kid: header.kid, issuer: iss, issuedAt: new Date(iat * 1000) };
}

export interface DetachedSignerOptions {
  key: CryptoKey | KeyObject;
  kid: string;
  /** The bank's `http://openbanking.org.uk/iss` (its organisation id in the directory). */
  issuer: string;
  trustAnchor: string;
  clock: Clock;
}

/** Signs bodies as detached OB JWS (PS256, OB claims critical, no b64): for the bank's responses and for tests. */
export function detachedSigner(options: DetachedSignerOptions): ResponseSigner {
  return {
    async sign(body) {
      const compact = await new CompactSign(new TextEncoder().encode(body))
        .setProtectedHeader({
          alg: 'PS256',
          kid: options.kid,
          typ: 'JOSE',
          cty: 'application/json',
          [OB_IAT]: Math.floor(options.clock.now().getTime() / 1000),
          [OB_ISS]: options.issuer,
          [OB_TAN]: options.trustAnchor,
          crit: [...OB_CLAIMS],
        })
        .sign(options.key, { crit: OB_CRITICAL });
      const [protectedHeader, , signature] = compact.split('.');
      return `${protectedHeader}..${signature}`;
    },
  };
}

/**
 * In this scope: JSON bodies are parsed from a buffer that stays on the request (`request.rawBody`), so
 * signatures and idempotency hashes cover the exact bytes the TPP sent; every response is signed.
 */
export function signedJsonScope(scope: FastifyInstance, signer: ResponseSigner): void {
  // Only JSON: anything else is answered 415 by fastify (the spec's status for an unsupported media type).
  scope.removeContentTypeParser(['application/json', 'text/plain']);
  acceptRawJson(scope, 'application/json');
  scope.addHook('onSend', async (_request, reply, payload) => {
    if (typeof payload !== 'string' || payload.length === 0) return payload;
    reply.header('x-jws-signature', await signer.sign(payload));
    return payload;
  });
}

/** Parses bodies of `contentType` as JSON, keeping the exact bytes on the request (`request.rawBody`). */
export function acceptRawJson(scope: FastifyInstance, contentType: string): void {
  scope.addContentTypeParser(contentType, { parseAs: 'buffer' }, (request, body, done) => {
    const raw = body as Buffer;
    request.rawBody = raw;
    if (raw.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(raw.toString('utf8')) as unknown);
    } catch {
      done(ObError.single(400, 'UK.OBIE.Resource.InvalidFormat', 'the body is not valid JSON'), undefined);
    }
  });
}

/** A preHandler (after the guard) that verifies the request's `x-jws-signature` for the token's client. */
export function requireSignature(
  options: SignatureVerifierOptions,
  clientIdOf: (request: FastifyRequest) => string,
): preHandlerAsyncHookHandler {
  return async (request) => {
    const body = request.rawBody;
    if (!body) throw ObError.single(400, 'UK.OBIE.Field.Missing', 'a JSON body is required');
    await verifyDetachedSignature(options, clientIdOf(request), request.headers['x-jws-signature'], body);
  };
}

/** SHA-256 of the exact body bytes, hex: what an idempotency key is bound to. */
export function bodyHash(body: Uint8Array | undefined): string {
  return createHash('sha256')
    .update(body ?? new Uint8Array())
    .digest('hex');
}

/** Where a client's software publishes its signing keys, and the `iss` values it may sign as. */
export interface SoftwareSigningKeys {
  jwksUri: string;
  issuers: readonly string[];
}

export interface RemoteKeyResolverOptions {
  /** The client's software (from its registration): JWKS URI and issuers; undefined for an unknown client. */
  softwareOf(clientId: string): Promise<SoftwareSigningKeys | undefined>;
  /** A fetch that trusts the directory's CA (jose's `customFetch`); the global fetch by default. */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** How long fetched key sets are used before being fetched again (default 10 minutes). */
  cacheMaxAgeMs?: number;
  /** At most this many JWKS URIs are cached (least recently created dropped first). Default 10 000. */
  maxSets?: number;
  /**
   * Asked about the key on every verification, since a cached set may still list a key revoked since (the
   * server: the certificate-status gate's view of its `x5c`). Default: only what the JWKS itself says.
   */
  keyStatus?: SigningKeyStatus;
  /** Sets read without fetching them (the directory beside us, from the database); others are fetched. */
  localJwks?: LocalJwks;
}

/**
 * Resolves TPP signing keys from their software's JWKS (the directory's `software_jwks_endpoint`): read
 * from the database when our own directory publishes it (`localJwks`), else with jose's remote key sets:
 * cached for `cacheMaxAgeMs`, refetched once (30 s cooldown) when a `kid` is unknown, so a TPP's key
 * rotation is picked up without a restart, and, when a refetch fails, the set fetched before is used
 * (stale-if-error: the directory being down does not stop payments whose keys we already hold).
 */
type RemoteJwks = ReturnType<typeof createRemoteJWKSet>;

export function remoteJwksKeyResolver(options: RemoteKeyResolverOptions): SigningKeyResolver {
  const keyStatus = options.keyStatus ?? publishedStatusOnly;
  const sets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  const setFor = (uri: string) => {
    let set = sets.get(uri);
    if (!set) {
      set = createRemoteJWKSet(new URL(uri), {
        cacheMaxAge: options.cacheMaxAgeMs ?? 600_000,
        ...(options.fetch ? { [customFetch]: options.fetch } : {}),
      });
      sets.set(uri, set);
      if (sets.size > (options.maxSets ?? 10_000)) {
        const oldest = sets.keys().next().value;
        if (oldest !== undefined) sets.delete(oldest);
      }
    }
    return set;
  };
  // A set our own directory publishes is read afresh on every call (a revocation shows at once), a new
  // object each time: jose's set, and with it its imported keys (an RSA import is ~0.1 ms of the main
  // thread), is kept per set content — a key added, rotated or revoked is another content, another set.
  const localSets = new Map<string, ReturnType<typeof createLocalJWKSet>>();
  const localSetOf = (held: JSONWebKeySet) => {
    // What jose selects and imports by: every member but the certificate chain (the bulk of the text).
    const content = JSON.stringify(held.keys.map(({ x5c: _chain, ...key }) => key));
    let set = localSets.get(content);
    if (!set) {
      set = createLocalJWKSet(held);
      localSets.set(content, set);
      if (localSets.size > (options.maxSets ?? 10_000)) {
        const oldest = localSets.keys().next().value;
        if (oldest !== undefined) localSets.delete(oldest);
      }
    }
    return set;
  };
  return {
    async keyFor(clientId, kid) {
      const software = await options.softwareOf(clientId);
      if (!software) return undefined;
      const held = await options.localJwks?.(software.jwksUri);
      const set = held ? localSetOf(held) : setFor(software.jwksUri);
      const published = () => (held ?? (set as RemoteJwks).jwks())?.keys ?? [];
      let key: Awaited<ReturnType<typeof set>>;
      try {
        key = await set({ alg: 'PS256', kid });
      } catch (error) {
        if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
          // Our own directory lists a revoked key apart (`…/jwks/revoked`): say so rather than "no such key".
          const revoked = held ? await options.localJwks?.(`${software.jwksUri}/revoked`) : undefined;
          if (revoked?.keys.some((candidate) => candidate.kid === kid))
            throw refuse('UK.OBIE.Signature.Invalid', `signing key ${kid} is revoked at the directory`);
          return undefined;
        }
        // Stale-if-error: the set fetched before, when there is one.
        const stale = held ? undefined : (set as RemoteJwks).jwks();
        if (!stale) {
          throw ObError.single(
            500,
            'UK.OBIE.UnexpectedError',
            'the signing keys of this software could not be fetched from its JWKS endpoint',
          );
        }
        try {
          key = await createLocalJWKSet(stale)({ alg: 'PS256', kid });
        } catch {
          return undefined;
        }
      }
      const jwk = published().find((candidate) => candidate.kid === kid);
      const refusal = jwk ? await keyStatus.refusalOf(jwk as PublishedKey) : undefined;
      if (refusal !== undefined) throw refuse('UK.OBIE.Signature.Invalid', refusal);
      return { key, issuers: software.issuers };
    },
  };
}
