import { certificateRoles } from '../../../auth/certificate-roles.ts';
import { roleOfApi, type ApiFamily } from '../../../shared/psd2-roles.ts';
import { ObError } from '../../errors.ts';
import type { Check } from '../types.ts';

/**
 * PSD2: only a TPP authorised for a service may use its API (AIS → AISP, PIS and VRP → PISP, CoF → CBPII).
 * The caller's roles are those its client was registered with, narrowed to the roles the presented
 * certificate's QCStatement grants when it is an eIDAS certificate (its NCA authorisation today, which
 * may be less than at registration). Refused with 403: a security policy the token cannot mend.
 */
export function role(api: ApiFamily): Check {
  const needed = roleOfApi[api];
  return {
    name: `role ${needed}`,
    run(state) {
      const registered = state.token?.roles ?? [];
      const presented = state.certificate ? certificateRoles(state.certificate) : undefined;
      const roles =
        presented === undefined ? registered : registered.filter((item) => presented.includes(item));
      if (!roles.includes(needed)) {
        throw ObError.single(
          403,
          'UK.OBIE.Header.Invalid',
          `this API is for ${needed === 'AISP' ? 'an' : 'a'} ${needed}: the TPP's roles are ${roles.join(', ') || 'none'}`,
        );
      }
    },
  };
}
