import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  installPageSecurity,
  PAGE_SECURITY_SECRET_SETTING,
  readCookie as readCookieHeader,
  type PageSecurityOptions,
} from '../../shared/page-security/index.ts';
import { loadOrCreateSecret, type Queryable } from '../../store/index.ts';

/** HTTP plumbing shared by the consent app, the dashboard and the bank app: form bodies, cookies, hardening. */

export type Form = Record<string, string | string[]>;

export function parseForm(body: string): Form {
  const form: Form = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const existing = form[key];
    if (existing === undefined) form[key] = value;
    else form[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return form;
}

export function field(form: Form, name: string): string | undefined {
  const value = form[name];
  return typeof value === 'string' ? value : undefined;
}

export function fieldList(form: Form, name: string): string[] {
  const value = form[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

export function readCookie(request: FastifyRequest, name: string): string | undefined {
  return readCookieHeader(request.headers.cookie, name);
}

/**
 * Parses HTML form posts and installs the platform's page security (headers and CSRF check) on every
 * response of this (encapsulated) app.
 */
export async function installHtmlPlumbing(
  app: FastifyInstance,
  db: Queryable,
  options: Omit<PageSecurityOptions, 'secret'>,
): Promise<void> {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 16_384 },
    (_request, body, done) => done(null, parseForm(body as string)),
  );
  installPageSecurity(app, {
    ...options,
    secret: await loadOrCreateSecret(db, PAGE_SECURITY_SECRET_SETTING),
  });
}

export function sessionCookie(name: string, path: string, token: string, maxAgeSeconds: number): string {
  return `${name}=${token}; Path=${path}; Max-Age=${maxAgeSeconds}; Secure; HttpOnly; SameSite=Lax`;
}

export function expiredCookie(name: string, path: string): string {
  return `${name}=; Path=${path}; Max-Age=0; Secure; HttpOnly; SameSite=Lax`;
}
