import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  csrfField as csrfInput,
  csrfToken,
  field,
  type Form,
  type SafeHtml,
} from '../../shared/page-kit/index.ts';
import { DirectoryError } from '../errors.ts';
import { idPatterns } from '../ids.ts';

/** The request helpers every page family shares: the CSRF field of its forms, the form's fields, ids. */

/** The hidden CSRF field every form of these pages carries (src/shared/page-security). */
export function csrfField(reply: FastifyReply): SafeHtml {
  return csrfInput(csrfToken(reply));
}

export function formOf(request: FastifyRequest): Form {
  const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw DirectoryError.badRequest('send the form as application/x-www-form-urlencoded');
  }
  return request.body as Form;
}

export function text(form: Form, name: string): string | undefined {
  const value = field(form, name)?.trim();
  return value ? value : undefined;
}

export function optional(form: Form, name: string): Record<string, string> {
  const value = text(form, name);
  return value === undefined ? {} : { [name]: value };
}

export function choice<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw DirectoryError.badRequest(`${what} must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** Onboarding without approval, and keys made by the directory, exist only in the sandbox. */
export function requireSandbox(sandbox: boolean, what = 'onboarding without approval'): void {
  if (!sandbox) throw DirectoryError.forbidden(`${what} is only available in the sandbox`);
}

export function checkKid(kid: string): string {
  if (!idPatterns.kid.test(kid)) throw DirectoryError.notFound('no such key');
  return kid;
}
