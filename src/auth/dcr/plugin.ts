import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { X509Certificate } from 'node:crypto';
import { certificateVerdictOf, clientCertificateOf } from '../../shared/client-certificate.ts';
import { REGISTRATION_PATH } from '../provider.ts';
import { DcrError, type Registrar } from './registration.ts';

/**
 * The Open Banking DCR endpoints on the mTLS listener:
 *   POST   /register             JWT body (application/jwt or application/jose) → 201 the client
 *   GET    /register/:ClientId   → 200 the client
 *   PUT    /register/:ClientId   JWT body → 200 the client, updated
 *   DELETE /register/:ClientId   → 204
 * The last three take a client_credentials access token of that client, bound to the certificate the
 * request comes with (401 without a valid one, 403 for another client's).
 *
 * Every answer is in the DCR specification's shapes, never the Read/Write API's error body: a refused
 * registration is 400 with an RFC 7591 body (also without a client certificate, or with one the listener
 * does not trust, which is why these routes take the certificate as optional and check it themselves);
 * 401 carries `WWW-Authenticate: Bearer` (RFC 6750); 403 and 405 have no body.
 */
export interface RegistrationPluginOptions {
  registrar: Registrar;
  server: { provider: { ClientCredentials: { find(value: string): Promise<TokenLike | undefined> } } };
}

interface TokenLike {
  clientId?: string | undefined;
  isValid: boolean;
  'x5t#S256'?: string | undefined;
}

const JWT_TYPES = ['application/jwt', 'application/jose'];
const CLIENT_ID = /^[A-Za-z0-9._~-]{1,64}$/;

function sendError(reply: FastifyReply, error: DcrError): FastifyReply {
  return reply
    .code(400)
    .header('cache-control', 'no-store')
    .send({ error: error.error, error_description: error.message });
}

function unauthorized(reply: FastifyReply, description: string): FastifyReply {
  return reply
    .code(401)
    .header('www-authenticate', `Bearer error="invalid_token", error_description="${description}"`)
    .header('cache-control', 'no-store')
    .send({ error: 'invalid_token', error_description: description });
}

/** The transport certificate a registration comes with; refused (400) without a trusted one. */
function transportCertificate(request: FastifyRequest): X509Certificate {
  const certificate = clientCertificateOf(request.raw);
  if (certificate) return certificate.x509;
  const verdict = certificateVerdictOf(request.raw);
  throw new DcrError(
    'unapproved_software_statement',
    verdict && !verdict.trusted && verdict.reason !== 'missing'
      ? `${verdict.detail}; register with the transport certificate the directory issued to this software`
      : 'register over mutual TLS with the transport certificate the directory issued to this software',
  );
}

export async function registrationPlugin(
  app: FastifyInstance,
  options: RegistrationPluginOptions,
): Promise<void> {
  const { registrar, server } = options;

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JWT_TYPES, { parseAs: 'string', bodyLimit: 64 * 1024 }, (_request, body, done) =>
    done(null, body),
  );
  // Any other body is refused by the handler with the spec's error, not by a parser.
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

  function jwtBody(request: FastifyRequest): unknown {
    const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (!JWT_TYPES.includes(type)) {
      throw new DcrError(
        'invalid_client_metadata',
        'send the registration request as application/jwt or application/jose',
      );
    }
    return request.body;
  }

  /** The registered client this request may manage, or a reply already sent. */
  async function authorised(request: FastifyRequest, reply: FastifyReply): Promise<string | undefined> {
    const clientId = (request.params as { ClientId?: string }).ClientId ?? '';
    const header = request.headers.authorization ?? '';
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header);
    if (!match?.[1]) {
      unauthorized(reply, 'a client_credentials access token is required');
      return undefined;
    }
    const token = await server.provider.ClientCredentials.find(match[1]);
    if (!token || !token.isValid || !token.clientId) {
      unauthorized(reply, 'the access token is not valid');
      return undefined;
    }
    const certificate = clientCertificateOf(request.raw);
    if (token['x5t#S256'] !== undefined && token['x5t#S256'] !== certificate?.thumbprintS256) {
      unauthorized(reply, 'the access token is bound to another certificate');
      return undefined;
    }
    if (!CLIENT_ID.test(clientId) || token.clientId !== clientId) {
      reply.code(403).header('cache-control', 'no-store').send();
      return undefined;
    }
    return clientId;
  }

  // Whatever fastify refuses before a handler runs (a body over the limit, say) is a registration error too.
  app.setErrorHandler((error: { statusCode?: number; message?: string }, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'registration failed');
      return reply
        .code(500)
        .header('cache-control', 'no-store')
        .send({ error: 'server_error', error_description: 'an unexpected error occurred' });
    }
    return sendError(
      reply,
      new DcrError(
        'invalid_client_metadata',
        `the registration request cannot be read: ${error.message ?? ''}`,
      ),
    );
  });

  // The DCR specification's own routes only take the certificate as optional (see above).
  const config = { clientCertificate: 'optional' as const };

  app.post(REGISTRATION_PATH, { config }, async (request, reply) => {
    try {
      const certificate = transportCertificate(request);
      const registered = await registrar.register(jwtBody(request), certificate);
      return reply.code(201).header('cache-control', 'no-store').send(registered.response);
    } catch (error) {
      if (error instanceof DcrError) return sendError(reply, error);
      throw error;
    }
  });

  app.get(`${REGISTRATION_PATH}/:ClientId`, { config }, async (request, reply) => {
    const clientId = await authorised(request, reply);
    if (!clientId) return reply;
    const found = await registrar.find(clientId);
    if (!found) return unauthorized(reply, 'the client is not registered');
    return reply.code(200).header('cache-control', 'no-store').send(found.response);
  });

  app.put(`${REGISTRATION_PATH}/:ClientId`, { config }, async (request, reply) => {
    const clientId = await authorised(request, reply);
    if (!clientId) return reply;
    const found = await registrar.find(clientId);
    if (!found) return unauthorized(reply, 'the client is not registered');
    const softwareId = found.metadata['software_id'];
    try {
      const registered = await registrar.register(jwtBody(request), clientCertificateOf(request.raw)?.x509, {
        clientId,
        softwareId: typeof softwareId === 'string' ? softwareId : '',
      });
      return reply.code(200).header('cache-control', 'no-store').send(registered.response);
    } catch (error) {
      if (error instanceof DcrError) return sendError(reply, error);
      throw error;
    }
  });

  app.delete(`${REGISTRATION_PATH}/:ClientId`, { config }, async (request, reply) => {
    const clientId = await authorised(request, reply);
    if (!clientId) return reply;
    if (!(await registrar.find(clientId))) return unauthorized(reply, 'the client is not registered');
    await registrar.delete(clientId);
    return reply.code(204).send();
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
