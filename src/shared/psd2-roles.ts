/**
 * PSD2 roles, in one place: the Open Banking names a directory's software statement carries
 * (`software_roles`), the eIDAS names an ETSI TS 119 495 QCStatement carries, the OAuth scope each role may
 * be granted, and the Read/Write API family each role opens. The ASN.1 object identifiers of the eIDAS
 * roles are certificate encoding and stay in src/pki.
 *
 *   AISP  = PSP_AI  → scope accounts            → AIS
 *   PISP  = PSP_PI  → scope payments            → PIS, VRP
 *   CBPII = PSP_IC  → scope fundsconfirmations  → CoF
 *   ASPSP = PSP_AS  → no TPP scope (the bank's own role)
 */

/** Open Banking role names, as a software statement's `software_roles` has them. */
export const obRoles = ['AISP', 'PISP', 'CBPII', 'ASPSP'] as const;
export type ObRole = (typeof obRoles)[number];

/** eIDAS role names (ETSI TS 119 495 `RoleOfPspName`), in the order of their object identifiers. */
export const psd2Roles = ['PSP_AS', 'PSP_PI', 'PSP_AI', 'PSP_IC'] as const;
export type Psd2Role = (typeof psd2Roles)[number];

export const psd2RoleOfObRole: Readonly<Record<ObRole, Psd2Role>> = {
  ASPSP: 'PSP_AS',
  PISP: 'PSP_PI',
  AISP: 'PSP_AI',
  CBPII: 'PSP_IC',
};

export function obRoleOfPsd2Role(role: Psd2Role): ObRole {
  return obRoles.find((obRole) => psd2RoleOfObRole[obRole] === role) as ObRole;
}

/** The resource scopes of the Read/Write APIs. */
export type ResourceScope = 'accounts' | 'payments' | 'fundsconfirmations';

/** The resource scope each role may be granted; the bank's own role grants none. */
export const scopeOfRole: Readonly<Record<ObRole, ResourceScope | undefined>> = {
  ASPSP: undefined,
  PISP: 'payments',
  AISP: 'accounts',
  CBPII: 'fundsconfirmations',
};

/** The Read/Write API families a TPP calls. */
export type ApiFamily = 'ais' | 'pis' | 'vrp' | 'cof';

/** The role a caller needs for each API family. */
export const roleOfApi: Readonly<Record<ApiFamily, ObRole>> = {
  ais: 'AISP',
  pis: 'PISP',
  vrp: 'PISP',
  cof: 'CBPII',
};

export function isObRole(value: string): value is ObRole {
  return (obRoles as readonly string[]).includes(value);
}

export function isPsd2Role(value: string): value is Psd2Role {
  return (psd2Roles as readonly string[]).includes(value);
}

/** The Open Banking role a name stands for, in either naming (`AISP` or `PSP_AI`); undefined if neither. */
export function obRoleNamed(name: string): ObRole | undefined {
  if (isObRole(name)) return name;
  if (isPsd2Role(name)) return obRoleOfPsd2Role(name);
  return undefined;
}

/** The Open Banking roles among names in either naming, each once; unknown names are dropped. */
export function obRolesNamed(names: Iterable<string>): ObRole[] {
  const roles = new Set<ObRole>();
  for (const name of names) {
    const role = obRoleNamed(name);
    if (role) roles.add(role);
  }
  return obRoles.filter((role) => roles.has(role));
}

/** The resource scopes the roles allow, in a stable order. */
export function scopesOfRoles(roles: Iterable<string>): ResourceScope[] {
  const scopes = new Set(obRolesNamed(roles).map((role) => scopeOfRole[role]));
  return (['accounts', 'payments', 'fundsconfirmations'] as const).filter((scope) => scopes.has(scope));
}
