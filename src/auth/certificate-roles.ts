import { parseParticipantCertificate } from '../pki/index.ts';
import type { ClientCertificate } from '../shared/client-certificate.ts';
import { obRolesNamed, type ObRole } from '../shared/psd2-roles.ts';

const MAX_ENTRIES = 1024;
/** `null`: the certificate states no roles (kept as a value, so that one look-up answers every call). */
const byThumbprint = new Map<string, readonly ObRole[] | null>();

/**
 * The PSD2 roles an eIDAS certificate's QCStatement grants its holder (as Open Banking role names);
 * undefined for a certificate that states none (an OBWAC). Read once per certificate: the API asks on
 * every call.
 */
export function certificateRoles(certificate: ClientCertificate): readonly ObRole[] | undefined {
  const key = certificate.thumbprintS256;
  const known = byThumbprint.get(key);
  if (known !== undefined) return known ?? undefined;
  let roles: readonly ObRole[] | undefined;
  try {
    const stated = parseParticipantCertificate(certificate.x509).roles;
    roles = stated === undefined ? undefined : obRolesNamed(stated);
  } catch {
    // A QCStatement that cannot be read grants nothing.
    roles = [];
  }
  if (byThumbprint.size >= MAX_ENTRIES) {
    const oldest = byThumbprint.keys().next().value;
    if (oldest !== undefined) byThumbprint.delete(oldest);
  }
  byThumbprint.set(key, roles ?? null);
  return roles;
}
