import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  appendSetCookie,
  expiredCookie,
  readCookie,
  sessionCookie as sessionCookieLine,
} from '../../shared/page-kit/index.ts';
import { DirectoryError } from '../errors.ts';
import { idPatterns } from '../ids.ts';
import type { DirectoryService, OrganisationRow, SoftwareRow } from '../service.ts';

/**
 * A browser manages one organisation at a time: creating it sets a cookie holding the organisation id
 * and a management key (shown once, stored only as a SHA-256 hash), which also signs in elsewhere.
 */
const cookieName = 'obkit_directory';

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function secretMatches(organisation: OrganisationRow, secret: string): boolean {
  if (!organisation.managementSecretHash || secret === '') return false;
  const expected = Buffer.from(organisation.managementSecretHash, 'hex');
  const actual = Buffer.from(hashSecret(secret), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** How long a directory session (an organisation's, the operator's) lasts. */
const SESSION_SECONDS = 8 * 3600;

/** Nothing outside the directory links into it with a session. */
const STRICT = { sameSite: 'Strict' } as const;

/**
 * Sets a directory session cookie — the organisation's here, the operator's (operator.ts) — or, with `value`
 * undefined, removes it: HttpOnly, Secure, SameSite=Strict, for /directory only, for `SESSION_SECONDS`.
 */
export function setDirectoryCookie(reply: FastifyReply, name: string, value: string | undefined): void {
  appendSetCookie(
    reply.raw,
    value === undefined
      ? expiredCookie(name, '/directory', STRICT)
      : sessionCookieLine(name, '/directory', value, SESSION_SECONDS, STRICT),
  );
}

export function setSession(reply: FastifyReply, orgId: string, secret: string): void {
  setDirectoryCookie(reply, cookieName, `${orgId}.${secret}`);
}

export function endSession(reply: FastifyReply): void {
  setDirectoryCookie(reply, cookieName, undefined);
}

function sessionCookie(request: FastifyRequest): { orgId: string; secret: string } | undefined {
  const [orgId, secret] = (readCookie(request.headers.cookie, cookieName) ?? '').split('.');
  return orgId && secret ? { orgId, secret } : undefined;
}

/** The organisation this browser manages, if its cookie still matches the organisation's key. */
export async function currentOrganisation(
  service: DirectoryService,
  request: FastifyRequest,
): Promise<OrganisationRow | undefined> {
  const session = sessionCookie(request);
  if (!session || !idPatterns.organisation.test(session.orgId)) return undefined;
  const organisation = await service.organisation(session.orgId).catch(() => undefined);
  return organisation && secretMatches(organisation, session.secret) ? organisation : undefined;
}

/** The signed-in organisation, which must be `orgId` (403 otherwise). */
export async function managed(
  service: DirectoryService,
  request: FastifyRequest,
  orgId: string,
): Promise<OrganisationRow> {
  const organisation = await currentOrganisation(service, request);
  if (!organisation || organisation.id !== orgId) {
    throw DirectoryError.forbidden("sign in with this organisation's id and management key to manage it");
  }
  return organisation;
}

/** A software statement of the signed-in organisation (404 when it is not one of its own). */
export async function managedSoftware(
  service: DirectoryService,
  request: FastifyRequest,
  params: { orgId: string; softwareId: string },
): Promise<{ organisation: OrganisationRow; software: SoftwareRow }> {
  const organisation = await managed(service, request, params.orgId);
  if (!idPatterns.software.test(params.softwareId))
    throw DirectoryError.notFound('no such software statement');
  const software = await service.software(params.softwareId);
  if (software.orgId !== organisation.id)
    throw DirectoryError.notFound('no such software statement in this organisation');
  return { organisation, software };
}
