import { obRolesNamed } from '../../../shared/psd2-roles.ts';
import { stringArray } from '../claims.ts';
import { DcrError } from '../errors.ts';
import { need, type DcrCheck } from '../types.ts';

/**
 * The roles the client is registered with: the SSA's `software_roles`, narrowed to the PSD2 roles of the
 * transport certificate's QCStatement when it is an eIDAS certificate (the NCA's authorisation, which the
 * directory's SSA cannot widen). A QWAC that grants none of the SSA's roles is refused.
 */
export const rolesOfCertificateAndSsa: DcrCheck = (context) => {
  const ssaRoles = obRolesNamed(stringArray(need(context, 'ssa')['software_roles']) ?? []);
  const certificateRoles = need(context, 'identity').roles;
  if (certificateRoles === undefined) {
    context.roles = ssaRoles;
    return;
  }
  const authorised = new Set(obRolesNamed(certificateRoles));
  const roles = ssaRoles.filter((role) => authorised.has(role));
  if (ssaRoles.length > 0 && roles.length === 0) {
    throw new DcrError(
      'unapproved_software_statement',
      `the transport certificate's PSD2 roles (${certificateRoles.join(', ') || 'none'}) grant none of the software statement's roles (${ssaRoles.join(', ')})`,
    );
  }
  context.roles = roles;
};
