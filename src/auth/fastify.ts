import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { certificateVerdictOf } from '../shared/client-certificate.ts';
import type { AuthorizationServer } from './provider.ts';

/**
 * Mounts the provider's Koa app under fastify: each provider path becomes a fastify route whose handler
 * hijacks the reply and hands the raw request and response to the provider. Bodies are left unread
 * (the provider parses them itself), and the x-fapi-interaction-id fastify chose is written on the raw
 * response, since hijacked replies skip fastify's header hooks.
 *
 * Register it on each listener with the paths that belong there:
 *   browser.register(authorizationServerPlugin, { server, surface: 'browser' })
 *   mtls.register(authorizationServerPlugin, { server, surface: 'mtls' })
 */
export interface AuthorizationServerPluginOptions {
  server: AuthorizationServer;
  surface: 'browser' | 'mtls';
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** On the mTLS listener, a route that works without a client certificate. */
    clientCertificate?: 'required' | 'optional';
  }
}

const METHODS = ['GET', 'POST', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'] as const;

export async function authorizationServerPlugin(
  app: FastifyInstance,
  options: AuthorizationServerPluginOptions,
): Promise<void> {
  const callback = options.server.provider.callback();
  const paths = options.surface === 'browser' ? options.server.browserPaths : options.server.mtlsPaths;

  // This plugin is encapsulated: these parsers affect only the provider's routes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    // A certificate was presented and refused (revoked, status unknown under fail-closed, foreign CA): the
    // client is not authenticated, whichever method it registered (RFC 6749 §5.2, RFC 8705 §2).
    const verdict = options.surface === 'mtls' ? certificateVerdictOf(request.raw) : undefined;
    if (verdict && !verdict.trusted && (verdict.reason === 'revoked' || verdict.reason === 'untrusted')) {
      request.log.info({ reason: verdict.reason }, 'client certificate refused at the authorization server');
      return reply
        .status(401)
        .header('cache-control', 'no-store')
        .send({ error: 'invalid_client', error_description: verdict.detail });
    }
    reply.hijack();
    reply.raw.setHeader('x-fapi-interaction-id', request.id);
    await callback(request.raw, reply.raw);
  };

  for (const url of paths) {
    app.route({
      method: [...METHODS],
      url,
      handler,
      // The provider answers a missing or foreign certificate itself, in RFC 6749 form.
      config: { clientCertificate: 'optional' },
    });
  }
}
