import type { JSONWebKeySet } from 'jose';
import { DirectoryError } from './errors.ts';
import type { DirectoryService } from './service.ts';

const PUBLISHED = /^\/organisations\/([^/]+)(?:\/software\/([^/]+))?\/jwks(\/revoked)?$/;

/**
 * The JWK Set at `url` when this directory publishes it (its SSA-signing keys, an organisation's or a
 * software statement's keys, listed or revoked), read from the database as its HTTP API would answer;
 * undefined for any other URL. A set naming an organisation or software it does not know is empty.
 */
export async function ownJwks(service: DirectoryService, url: string): Promise<JSONWebKeySet | undefined> {
  const api = `${service.addresses.issuer}/v1`;
  if (!URL.canParse(url) || !URL.canParse(api)) return undefined;
  const asked = new URL(url);
  const base = new URL(api);
  if (
    asked.origin !== base.origin ||
    asked.search !== '' ||
    !asked.pathname.startsWith(`${base.pathname}/`)
  ) {
    return undefined;
  }
  const path = asked.pathname.slice(base.pathname.length);
  if (path === '/jwks') return (await service.signingKeys.jwks()) as JSONWebKeySet;
  const match = PUBLISHED.exec(path);
  if (!match) return undefined;
  const [, orgId = '', softwareId, revoked] = match;
  try {
    const scope = softwareId ? { orgId, softwareId } : { orgId };
    return (await service.jwks(scope, revoked ? 'revoked' : 'active')) as JSONWebKeySet;
  } catch (error) {
    if (error instanceof DirectoryError && error.status === 404) return { keys: [] };
    throw error;
  }
}
