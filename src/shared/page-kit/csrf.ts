import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { appendSetCookie, readCookie } from './cookies.ts';

/**
 * The one CSRF mechanism of every HTML form: a signed double-submit token (OWASP's "signed double-submit
 * cookie"). The browser holds a random nonce in the cookie `__Host-obkit-csrf` (Secure, HttpOnly, Path=/,
 * no Domain, so neither a sibling subdomain nor plain HTTP can plant one); each form carries
 * HMAC-SHA256(secret, nonce) in its hidden field `csrf`. A cross-site page can neither read the cookie nor
 * compute the HMAC without the secret, which lives in the store's settings (every instance shares it).
 */
export const CSRF_COOKIE = '__Host-obkit-csrf';
export const CSRF_FIELD = 'csrf';
/** The store setting that holds the HMAC secret (`loadOrCreateSecret` in src/store/settings.ts). */
export const PAGE_SECURITY_SECRET_SETTING = 'page-security-secret';

const NONCE = /^[A-Za-z0-9_-]{43}$/;

function newCsrfNonce(): string {
  return randomBytes(32).toString('base64url');
}

function isCsrfNonce(value: string | undefined): value is string {
  return value !== undefined && NONCE.test(value);
}

function csrfCookie(nonce: string): string {
  return `${CSRF_COOKIE}=${nonce}; Path=/; Secure; HttpOnly; SameSite=Lax`;
}

function csrfTokenFor(secret: string, nonce: string): string {
  return createHmac('sha256', secret).update(`obkit-csrf:${nonce}`).digest('base64url');
}

/** Constant-time check of a posted token against the cookie's nonce. */
function csrfTokenValid(secret: string, nonce: string | undefined, submitted: unknown): boolean {
  if (!isCsrfNonce(nonce) || typeof submitted !== 'string' || submitted.length === 0) return false;
  const expected = Buffer.from(csrfTokenFor(secret, nonce));
  const actual = Buffer.from(submitted);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

interface RequestState {
  secret: string;
  nonce?: string;
}

const states = new WeakMap<FastifyRequest, RequestState>();

/** Called by the page kit's plugin on every request of its scope: the secret its tokens are made with. */
export function useCsrfSecret(request: FastifyRequest, secret: string): void {
  states.set(request, { secret });
}

/**
 * Issues the value of the hidden `csrf` field for a form on the page this reply sends; sets the cookie
 * when the browser has none (or a malformed one).
 */
export function csrfToken(reply: FastifyReply): string {
  const state = states.get(reply.request);
  if (!state) throw new Error('csrfToken: this route is not in a scope with installPageKit');
  if (state.nonce === undefined) {
    const sent = readCookie(reply.request.headers.cookie, CSRF_COOKIE);
    if (isCsrfNonce(sent)) state.nonce = sent;
    else {
      state.nonce = newCsrfNonce();
      appendSetCookie(reply.raw, csrfCookie(state.nonce));
    }
  }
  return csrfTokenFor(state.secret, state.nonce);
}

/** Verifies the posted form's token against the request's CSRF cookie. */
export function csrfVerified(request: FastifyRequest, secret: string): boolean {
  return csrfTokenValid(secret, readCookie(request.headers.cookie, CSRF_COOKIE), postedToken(request.body));
}

/** The one `csrf` field of a form body (parsed by forms.ts); two of them is no token. */
function postedToken(body: unknown): string | undefined {
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const value = (body as Record<string, unknown>)[CSRF_FIELD];
    return typeof value === 'string' ? value : undefined;
  }
  return undefined;
}
