import {
  DATABASE_RETRY_AFTER_SECONDS,
  DATABASE_UNAVAILABLE,
  isDatabaseUnavailable,
} from '../shared/database-unavailable.ts';
import { decodeJwt } from 'jose';
import type Provider from 'oidc-provider';
import { errors, type ErrorOut, type KoaContextWithOIDC } from 'oidc-provider';
import { pageSecurityHeaders } from '../shared/page-kit/index.ts';
import { errorPage, type ErrorPage, type PageFrame } from '../consent/app/pages.ts';

/**
 * How the authorization server's errors reach their reader, in one place:
 *
 * - a TPP at an endpoint that authenticates clients gets RFC 6749 §5.2 bodies, and `invalid_client` is
 *   always 401 (oidc-provider answers 400 for some failures, and `invalid_request` for an assertion whose
 *   `sub` names another client);
 * - a person at `/authorize` (or its resume step) whose request cannot go back to the app reads the
 *   consent app's error page: what went wrong, the `x-fapi-interaction-id`, what to do next;
 * - a request whose request object has not been verified is never redirected: its `redirect_uri`,
 *   `state` and `response_mode` are the sender's word only, so the error stays on the page (without the
 *   state).
 */

const INTERACTION_ID = 'x-fapi-interaction-id';

/** The provider's routes at which a client authenticates (RFC 6749 §2.3). */
const CLIENT_AUTHENTICATING_ROUTES = new Set([
  'token',
  'pushed_authorization_request',
  'introspection',
  'revocation',
  'backchannel_authentication',
]);

/** The routes a person's browser is on: their errors are pages. */
const BROWSER_ROUTES = new Set(['authorization', 'resume']);

function isErrorBody(body: unknown): body is { error: string; error_description?: unknown } {
  return typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string';
}

/** Whether the client assertion's `sub` names a client other than the `client_id` sent beside it. */
function assertionOfAnotherClient(params: Record<string, unknown> | undefined): boolean {
  const assertion = params?.['client_assertion'];
  const clientId = params?.['client_id'];
  if (typeof assertion !== 'string' || typeof clientId !== 'string') return false;
  try {
    const { sub } = decodeJwt(assertion);
    return typeof sub === 'string' && sub !== clientId;
  } catch {
    return false;
  }
}

/**
 * Koa middleware (`provider.use`): at the endpoints that authenticate clients, a failed client
 * authentication is `invalid_client` with 401, whatever oidc-provider chose.
 */
export async function clientAuthenticationErrors(
  ctx: KoaContextWithOIDC,
  next: () => Promise<unknown>,
): Promise<void> {
  await next();
  const route = ctx.oidc?.route;
  if (!route || !CLIENT_AUTHENTICATING_ROUTES.has(route) || !isErrorBody(ctx.body)) return;
  if (ctx.body.error === 'invalid_client') {
    ctx.status = 401;
  } else if (
    ctx.body.error === 'invalid_request' &&
    assertionOfAnotherClient(ctx.oidc.params as Record<string, unknown> | undefined)
  ) {
    ctx.status = 401;
    ctx.body = {
      error: 'invalid_client',
      error_description:
        'the client assertion must be issued by and about the client: its sub is not client_id',
    };
  }
}

/**
 * A request the provider failed because the database could not answer is 503 with `Retry-After`, and its
 * JSON body RFC 6749's `temporarily_unavailable` (an HTML page keeps its page; a redirect to the client
 * keeps its `server_error`): the client may retry, where a 500 would say the bank is broken.
 */
export function databaseUnavailableAnswers(
  provider: Provider,
): (ctx: KoaContextWithOIDC, next: () => Promise<unknown>) => Promise<void> {
  const unavailable = new WeakSet<object>();
  provider.on('server_error', (ctx: KoaContextWithOIDC, error: Error) => {
    if (isDatabaseUnavailable(error)) unavailable.add(ctx.req);
  });
  return async (ctx, next) => {
    await next();
    if (!unavailable.has(ctx.req) || (ctx.status >= 300 && ctx.status < 400)) return;
    ctx.status = 503;
    ctx.set('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
    if (isErrorBody(ctx.body)) {
      ctx.body = { error: 'temporarily_unavailable', error_description: DATABASE_UNAVAILABLE };
    }
  };
}

/**
 * Keeps the errors of an authorization request whose request object was not verified on the error page:
 * oidc-provider decides whether to redirect after emitting the error, so the listener can refuse it.
 */
export function keepUnverifiedAuthorizationErrorsOnPage(provider: Provider): void {
  const refuseRedirect = (ctx: KoaContextWithOIDC, error: Error) => {
    if (ctx.oidc?.route === 'authorization' && !ctx.oidc.trusted) {
      (error as { allow_redirect?: boolean }).allow_redirect = false;
    }
  };
  provider.on('authorization.error', refuseRedirect);
  provider.on('server_error', refuseRedirect);
}

interface PeopleText {
  title: string;
  message: string;
}

const FOR_PEOPLE: Record<string, PeopleText> = {
  invalid_request_object: {
    title: 'The app sent a request we cannot accept',
    message: 'We could not verify that this request came from the app, so we have not acted on it.',
  },
  invalid_request_uri: {
    title: 'This request has expired',
    message: 'The link the app sent you with is too old or was already used.',
  },
  invalid_client: {
    title: 'We do not recognise the app',
    message: 'The app that sent you here is not registered with us, so we have not acted on its request.',
  },
  unauthorized_client: {
    title: 'The app cannot make this request',
    message:
      'The app that sent you here is not allowed to ask for this, so we have not acted on its request.',
  },
  invalid_redirect_uri: {
    title: 'We cannot send you back to the app',
    message:
      'The app asked us to send you to an address it has not registered with us, so we stopped here to keep you safe.',
  },
  server_error: {
    title: 'Something went wrong on our side',
    message: 'We could not complete this request. Nothing has been shared with the app.',
  },
  temporarily_unavailable: {
    title: 'We cannot take this request just now',
    message: 'Our service is busy or being maintained. Nothing has been shared with the app.',
  },
};

const EXPIRED: PeopleText = {
  title: 'This page has expired',
  message:
    'Your session with us ended before the request was finished. Nothing has been shared with the app.',
};

const NOT_ACCEPTED: PeopleText = {
  title: 'The app sent a request we cannot accept',
  message: 'Something in the request from the app is not right, so we have not acted on it.',
};

const WHAT_TO_DO =
  'Close this page and go back to the app to start again. If it keeps happening, contact the app and quote the reference below.';

export interface ErrorPagesOptions {
  /** Where the consent app lives (its stylesheet is shared). */
  interactionBaseUrl: string;
  bankName: string;
  /** The browser paths the provider serves: a request under them that no route answers gets a 404 page. */
  browserPaths: readonly string[];
}

export interface ErrorPages {
  /**
   * oidc-provider's `renderError`: at `/authorize` and its resume step, the consent app's error page;
   * elsewhere (an API client that prefers HTML) the RFC 6749 body. Never the `state`, never a trace.
   */
  renderError(ctx: KoaContextWithOIDC, out: ErrorOut, error: Error): Promise<void>;
  /** Koa middleware (`provider.use`): a 404 page, not Koa's "Not Found", under the browser paths. */
  notFound(ctx: KoaContextWithOIDC, next: () => Promise<unknown>): Promise<void>;
}

export function createErrorPages(options: ErrorPagesOptions): ErrorPages {
  const frame: PageFrame = {
    mountPath: `${options.interactionBaseUrl}/interaction`,
    bankName: options.bankName,
  };
  const headers = pageSecurityHeaders({ styleOrigins: [new URL(options.interactionBaseUrl).origin] });

  function sendPage(ctx: KoaContextWithOIDC, page: ErrorPage): void {
    const reference = ctx.res.getHeader(INTERACTION_ID);
    ctx.set(headers);
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = errorPage(frame, {
      ...page,
      details: [...(page.details ?? []), WHAT_TO_DO],
      reference: typeof reference === 'string' ? reference : undefined,
    });
  }

  return {
    async renderError(ctx, out, error) {
      const description = typeof out.error_description === 'string' ? out.error_description : undefined;
      if (!BROWSER_ROUTES.has(ctx.oidc?.route ?? '')) {
        ctx.type = 'application/json; charset=utf-8';
        ctx.body = { error: out.error, ...(description ? { error_description: description } : {}) };
        return;
      }
      const text =
        error instanceof errors.SessionNotFound ? EXPIRED : (FOR_PEOPLE[out.error] ?? NOT_ACCEPTED);
      sendPage(ctx, { ...text, technical: { error: out.error, description: description?.slice(0, 300) } });
    },
    async notFound(ctx, next) {
      await next();
      if (ctx.status !== 404 || (ctx.body !== undefined && ctx.body !== null) || ctx.oidc?.route) return;
      const path = ctx.path;
      if (!options.browserPaths.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))) return;
      ctx.status = 404;
      sendPage(ctx, { title: 'Page not found', message: 'There is no such page.' });
    },
  };
}
