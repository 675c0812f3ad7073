import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

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

export function newCsrfNonce(): string {
  return randomBytes(32).toString('base64url');
}

export function isCsrfNonce(value: string | undefined): value is string {
  return value !== undefined && NONCE.test(value);
}

export function csrfCookie(nonce: string): string {
  return `${CSRF_COOKIE}=${nonce}; Path=/; Secure; HttpOnly; SameSite=Lax`;
}

/** The token a form must carry for this nonce. */
export function csrfTokenFor(secret: string, nonce: string): string {
  return createHmac('sha256', secret).update(`obkit-csrf:${nonce}`).digest('base64url');
}

/** Constant-time check of a posted token against the cookie's nonce. */
export function csrfTokenValid(secret: string, nonce: string | undefined, submitted: unknown): boolean {
  if (!isCsrfNonce(nonce) || typeof submitted !== 'string' || submitted.length === 0) return false;
  const expected = Buffer.from(csrfTokenFor(secret, nonce));
  const actual = Buffer.from(submitted);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
