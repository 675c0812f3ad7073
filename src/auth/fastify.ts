import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { certificateVerdictOf } from '../shared/client-certificate.ts';
import { hijackKeepingHeaders } from '../shared/hijack.ts';
import { oauthErrorHandler } from './fastify-error-handler.ts';
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

/**
 * The provider reads at most 56 KiB of a body (oidc-provider's `selective_body`) and refuses a longer one
 * without reading it. Refused here first, it gets the 413 it is, and its body is read and dropped, so the
 * client reads the answer instead of a connection closed under its upload.
 */
export const PROVIDER_BODY_LIMIT = 56 * 1024;
/** A body larger than this is not worth reading to the end: the connection is closed after the answer. */
const DRAIN_LIMIT = 8 * 1024 * 1024;

/** Reads and drops what remains of a request body (up to `DRAIN_LIMIT`); false when it was not drained. */
export async function drainRequestBody(raw: IncomingMessage, declaredLength: number): Promise<boolean> {
  if (declaredLength > DRAIN_LIMIT || raw.readableEnded) return raw.readableEnded;
  raw.resume();
  await Promise.race([once(raw, 'end'), once(raw, 'close')]);
  return true;
}

/** Each request the provider is handling, with its logger, so its `server_error`s are logged with the interaction id. */
const requestLogs = new WeakMap<IncomingMessage, FastifyBaseLogger>();

export async function authorizationServerPlugin(
  app: FastifyInstance,
  options: AuthorizationServerPluginOptions,
): Promise<void> {
  const callback = options.server.provider.callback();
  const paths = options.surface === 'browser' ? options.server.browserPaths : options.server.mtlsPaths;

  // This plugin is encapsulated: these parsers affect only the provider's routes. The form type every
  // OAuth endpoint takes has its own entry: fastify keeps the parser it found per content type, but never
  // the catch-all's, which it looks for again, parsing the header, on every request.
  app.removeAllContentTypeParsers();
  const leaveUnread = (
    _request: FastifyRequest,
    _payload: unknown,
    done: (error: null, body: undefined) => void,
  ) => done(null, undefined);
  app.addContentTypeParser('application/x-www-form-urlencoded', leaveUnread);
  app.addContentTypeParser('*', leaveUnread);

  // What fastify refuses before the provider sees a request (a malformed content type, say) is an OAuth
  // endpoint's error too: RFC 6749 §5.2, not the Read/Write APIs' body.
  app.setErrorHandler(
    oauthErrorHandler('the authorization server route failed', (_error, reply, status) =>
      reply
        .status(status)
        .header('cache-control', 'no-store')
        .send({ error: 'invalid_request', error_description: 'the request cannot be read' }),
    ),
  );

  options.server.provider.on('server_error', (ctx: KoaContextWithOIDC, error: Error) => {
    requestLogs.get(ctx.req)?.error({ err: error }, 'the authorization server failed');
  });

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
    const declaredLength = Number(request.headers['content-length'] ?? 0);
    if (declaredLength > PROVIDER_BODY_LIMIT) {
      const drained = await drainRequestBody(request.raw, declaredLength);
      return reply
        .status(413)
        .header('cache-control', 'no-store')
        .header('connection', drained ? 'keep-alive' : 'close')
        .send({
          error: 'invalid_request',
          error_description: `the request body is larger than ${PROVIDER_BODY_LIMIT} bytes`,
        });
    }
    // Written once, with the headers hooks set on the reply (the surface sets the interaction id there).
    if (reply.getHeader('x-fapi-interaction-id') === undefined)
      reply.header('x-fapi-interaction-id', request.id);
    hijackKeepingHeaders(reply);
    requestLogs.set(request.raw, request.log);
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
