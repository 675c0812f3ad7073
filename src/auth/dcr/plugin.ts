import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { certificateVerdictOf, clientCertificateOf } from '../../shared/client-certificate.ts';
import { oauthErrorHandler } from '../fastify-error-handler.ts';
import { REGISTRATION_PATH } from '../provider.ts';
import { DcrAccessError, DcrError } from './errors.ts';
import type { DcrInput, Registrar } from './registration.ts';

/**
 * The Open Banking DCR endpoints on the mTLS listener:
 *   POST   /register             JWT body (application/jwt or application/jose) → 201 the client
 *   GET    /register/:ClientId   → 200 the client
 *   PUT    /register/:ClientId   JWT body → 200 the client, updated
 *   DELETE /register/:ClientId   → 204
 * The last three take a client_credentials access token of that client, bound to the certificate the
 * request comes with (401 without a valid one, 403 for another client's).
 *
 * The checks each operation runs are in pipeline.ts; this file only turns HTTP into their input and their
 * refusals into answers. Every answer is in the DCR specification's shapes, never the Read/Write API's
 * error body: a refused registration is 400 with an RFC 7591 body (also without a client certificate, or with one the listener
 * does not trust, which is why these routes take the certificate as optional and check it themselves);
 * 401 carries `WWW-Authenticate: Bearer` (RFC 6750); 403 and 405 have no body.
 */
export interface RegistrationPluginOptions {
  registrar: Registrar;
  /**
   * Told of each registration made, updated or deleted, after it is stored (the security audit log). A
   * failure here is logged; the TPP's answer stands.
   */
  onRegistration?: (change: RegistrationChange) => Promise<void>;
}

export interface RegistrationChange {
  event: 'registered' | 'updated' | 'deleted';
  clientId: string;
  orgId?: string;
  softwareId?: string;
  /** The address the request came from. */
  address: string;
}

const JWT_TYPES = ['application/jwt', 'application/jose'];

function sendError(reply: FastifyReply, error: DcrError): FastifyReply {
  return reply
    .code(400)
    .header('cache-control', 'no-store')
    .send({ error: error.error, error_description: error.message });
}

function sendAccessError(reply: FastifyReply, error: DcrAccessError): FastifyReply {
  if (error.status === 403) return reply.code(403).header('cache-control', 'no-store').send();
  return reply
    .code(401)
    .header('www-authenticate', `Bearer error="invalid_token", error_description="${error.message}"`)
    .header('cache-control', 'no-store')
    .send({ error: 'invalid_token', error_description: error.message });
}

/** The request as the registrar's checks read it: nothing is interpreted here. */
function inputOf(request: FastifyRequest): DcrInput {
  return {
    body: request.body,
    contentType: (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '',
    certificate: clientCertificateOf(request.raw),
    certificateVerdict: certificateVerdictOf(request.raw),
    authorization: request.headers.authorization,
    clientId: (request.params as { ClientId?: string } | undefined)?.ClientId ?? '',
  };
}

/** Answers a refusal in the DCR specification's shapes; anything else is not ours to answer. */
function refused(reply: FastifyReply, error: unknown): FastifyReply {
  if (error instanceof DcrError) return sendError(reply, error);
  if (error instanceof DcrAccessError) return sendAccessError(reply, error);
  throw error;
}

export async function registrationPlugin(
  app: FastifyInstance,
  options: RegistrationPluginOptions,
): Promise<void> {
  const { registrar } = options;
  const tell = async (request: FastifyRequest, change: Omit<RegistrationChange, 'address'>) => {
    if (!options.onRegistration) return;
    await options
      .onRegistration({ ...change, address: request.ip })
      .catch((error: unknown) => request.log.error({ err: error }, 'recording a registration failed'));
  };
  const claims = (response: Record<string, unknown>) => ({
    clientId: String(response['client_id'] ?? ''),
    ...(typeof response['org_id'] === 'string' ? { orgId: response['org_id'] } : {}),
    ...(typeof response['software_id'] === 'string' ? { softwareId: response['software_id'] } : {}),
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JWT_TYPES, { parseAs: 'string', bodyLimit: 64 * 1024 }, (_request, body, done) =>
    done(null, body),
  );
  // Any other body is refused by the checks with the spec's error, not by a parser.
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

  // Whatever fastify refuses before a handler runs (a body over the limit, say) is a registration error too.
  app.setErrorHandler(
    oauthErrorHandler('registration failed', (error, reply) =>
      sendError(
        reply,
        new DcrError(
          'invalid_client_metadata',
          `the registration request cannot be read: ${error.message ?? ''}`,
        ),
      ),
    ),
  );

  // The DCR specification's own routes only take the certificate as optional (see above).
  const config = { clientCertificate: 'optional' as const };

  app.post(REGISTRATION_PATH, { config }, async (request, reply) => {
    try {
      const registered = await registrar.register(inputOf(request));
      await tell(request, { event: 'registered', ...claims(registered.response) });
      return reply.code(201).header('cache-control', 'no-store').send(registered.response);
    } catch (error) {
      return refused(reply, error);
    }
  });

  app.get(`${REGISTRATION_PATH}/:ClientId`, { config }, async (request, reply) => {
    try {
      const found = await registrar.read(inputOf(request));
      return reply.code(200).header('cache-control', 'no-store').send(found.response);
    } catch (error) {
      return refused(reply, error);
    }
  });

  app.put(`${REGISTRATION_PATH}/:ClientId`, { config }, async (request, reply) => {
    try {
      const registered = await registrar.update(inputOf(request));
      await tell(request, { event: 'updated', ...claims(registered.response) });
      return reply.code(200).header('cache-control', 'no-store').send(registered.response);
    } catch (error) {
      return refused(reply, error);
    }
  });

  app.delete(`${REGISTRATION_PATH}/:ClientId`, { config }, async (request, reply) => {
    try {
      const input = inputOf(request);
      await registrar.remove(input);
      await tell(request, { event: 'deleted', clientId: input.clientId ?? '' });
      return reply.code(204).send();
    } catch (error) {
      return refused(reply, error);
    }
  });

  // Methods the specification does not define on its paths: 405 naming the ones it does, and no body.
  for (const [url, allowed] of [
    [REGISTRATION_PATH, ['POST']],
    [`${REGISTRATION_PATH}/:ClientId`, ['GET', 'PUT', 'DELETE']],
  ] as const) {
    app.route({
      method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'].filter(
        (method) => !(allowed as readonly string[]).includes(method),
      ),
      url,
      config,
      handler: async (_request, reply) =>
        reply.code(405).header('allow', allowed.join(', ')).header('cache-control', 'no-store').send(),
    });
  }
}
