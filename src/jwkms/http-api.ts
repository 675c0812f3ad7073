import { isDatabaseUnavailable } from '../shared/database-unavailable.ts';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { JWTPayload } from 'jose';
import { z } from 'zod';
import { authenticateParticipant, type DirectoryService } from '../directory/index.ts';
import { tppSigningIssuer } from '../shared/ob-jws-claims.ts';
import { decryptForCaller } from './decrypt.ts';
import { signDetached } from './detached.ts';
import { encryptForRecipient } from './encrypt.ts';
import { JwkmsError } from './errors.ts';
import type { ManagedKeys } from './managed-keys.ts';
import { mtlsReport } from './mtls-report.ts';
import { encryptionKey, verificationKeys, type KeyReference } from './public-keys.ts';
import { signClaims } from './sign.ts';
import { validateJws } from './validate.ts';

export const jwkmsPrefix = '/jwkms/v1';
const bodyLimit = 256 * 1024;

export interface JwkmsApiContext {
  directory: DirectoryService;
  keys: ManagedKeys;
  /** The directory's base URL: JWKS URIs under it are resolved in process. */
  directoryBaseUrl: string;
  /** `http://openbanking.org.uk/tan` of detached signatures: the trust anchor banks check. */
  trustAnchor: string;
}

const claims = z.record(z.string(), z.unknown());
const keyReference = z
  .object({
    jwk: z.record(z.string(), z.unknown()).optional(),
    jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).optional(),
    certificatePem: z.string().max(16_384).optional(),
    jwksUri: z.string().url().optional(),
  })
  .refine((value) => Object.values(value).filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of jwk, jwks, certificatePem, jwksUri',
  });
const expiresIn = z.number().int().min(1).max(31_536_000).optional();

const schemas = {
  sign: z.object({ claims, expiresIn }),
  signDetached: z.object({
    payload: z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]),
  }),
  signEncrypt: z.object({ claims, expiresIn, recipient: keyReference }),
  decrypt: z.object({ jwe: z.string().min(1), validateWith: keyReference.optional() }),
  validate: z.object({ jws: z.string().min(1), key: keyReference, detachedPayload: z.string().optional() }),
};

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    throw new JwkmsError(400, 'invalid_request', `${where}${issue?.message ?? 'invalid body'}`);
  }
  return result.data;
}

function errorHandler(error: FastifyError | JwkmsError, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof JwkmsError)
    return reply.status(error.status).send({ error: error.code, error_description: error.message });
  const status = (error as FastifyError).statusCode ?? 500;
  const named = error as { status?: number; code?: string; message: string };
  if (typeof named.status === 'number' && named.status < 500 && typeof named.code === 'string') {
    // DirectoryError (caller authentication) already speaks this format.
    return reply.status(named.status).send({ error: named.code, error_description: named.message });
  }
  if (status < 500)
    return reply.status(status).send({ error: 'invalid_request', error_description: error.message });
  // Not ours to answer: the surface's handler says 503, with Retry-After, in this same shape.
  if (isDatabaseUnavailable(error)) throw error;
  request.log.error({ err: error }, 'jwkms request failed');
  return reply.status(500).send({ error: 'server_error', error_description: 'an unexpected error occurred' });
}

declare module 'fastify' {
  interface FastifyRequest {
    jwkmsCaller?: { orgId: string; softwareId: string };
  }
}

/** JWKms on the mTLS listener: every call is made by a directory-issued transport certificate. */
export async function jwkmsApi(scope: FastifyInstance, context: JwkmsApiContext): Promise<void> {
  const { directory, keys } = context;
  scope.setErrorHandler(errorHandler);
  scope.addHook('onRoute', (route) => {
    // Callers are authenticated here, in JWKms's error format; the mTLS test reports untrusted certificates.
    route.config = { ...route.config, clientCertificate: 'optional' };
    route.bodyLimit = bodyLimit;
  });
  scope.addHook('preHandler', async (request) => {
    if (request.routeOptions.url === `${jwkmsPrefix}/mtls-test`) return;
    const certificate = await authenticateParticipant(directory, request);
    request.jwkmsCaller = { orgId: certificate.orgId, softwareId: certificate.softwareId };
  });
  const caller = (request: FastifyRequest) => request.jwkmsCaller!;
  const issuerOf = (request: FastifyRequest) =>
    tppSigningIssuer(caller(request).orgId, caller(request).softwareId);
  const resolve = (reference: KeyReference) =>
    verificationKeys(reference, directory, context.directoryBaseUrl);

  scope.post('/sign', async (request) => {
    const body = parse(schemas.sign, request.body);
    const key = await keys.current(caller(request).softwareId, 'signing');
    const jwt = await signClaims(key, body.claims as JWTPayload, {
      issuer: caller(request).softwareId,
      ...(body.expiresIn ? { expiresInSeconds: body.expiresIn } : {}),
    });
    return { jwt, kid: key.kid };
  });

  scope.post('/sign-detached', async (request) => {
    const body = parse(schemas.signDetached, request.body);
    const payload = typeof body.payload === 'string' ? body.payload : JSON.stringify(body.payload);
    const key = await keys.current(caller(request).softwareId, 'signing');
    const { signature, header } = await signDetached(key, payload, {
      issuer: issuerOf(request),
      trustAnchor: context.trustAnchor,
    });
    return { signature, kid: key.kid, header, signedPayload: payload };
  });

  scope.post('/sign-encrypt', async (request) => {
    const body = parse(schemas.signEncrypt, request.body);
    const key = await keys.current(caller(request).softwareId, 'signing');
    const jwt = await signClaims(key, body.claims as JWTPayload, {
      issuer: caller(request).softwareId,
      ...(body.expiresIn ? { expiresInSeconds: body.expiresIn } : {}),
    });
    const recipient = await encryptionKey(
      body.recipient as KeyReference,
      directory,
      context.directoryBaseUrl,
    );
    return { jwe: await encryptForRecipient(jwt, recipient), signingKid: key.kid };
  });

  scope.post('/decrypt', async (request) => {
    const body = parse(schemas.decrypt, request.body);
    const mine = await keys.all(caller(request).softwareId, 'encryption');
    const { plaintext, kid } = await decryptForCaller(body.jwe, mine);
    const validation = body.validateWith
      ? await validateJws(plaintext, await resolve(body.validateWith as KeyReference), {})
      : undefined;
    return { plaintext, kid, ...(validation ? { validation } : {}) };
  });

  scope.post('/validate', async (request) => {
    const body = parse(schemas.validate, request.body);
    return validateJws(body.jws, await resolve(body.key as KeyReference), {
      ...(body.detachedPayload !== undefined ? { detachedPayload: body.detachedPayload } : {}),
    });
  });

  scope.get('/keys', async (request) => {
    const { softwareId, orgId } = caller(request);
    const signing = await keys.current(softwareId, 'signing');
    const encryption = await keys.current(softwareId, 'encryption');
    return {
      signing: { kid: signing.kid, certificatePem: signing.certificatePem },
      encryption: { kid: encryption.kid, certificatePem: encryption.certificatePem },
      jwksUri: `${context.directoryBaseUrl}/v1/organisations/${orgId}/software/${softwareId}/jwks`,
    };
  });

  scope.post('/keys/rotate', async (request) => ({ created: await keys.rotate(caller(request).softwareId) }));
  scope.post('/keys/reset', async (request) => keys.reset(caller(request).softwareId));

  scope.get('/mtls-test', async (request) => mtlsReport(request.raw, directory));
}
