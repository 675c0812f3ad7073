import { ObError } from '../../errors.ts';
import type { Check } from '../types.ts';

/**
 * RFC 8705 §3: the token is usable only over a connection authenticated with the certificate it is bound to.
 * Compared as strings, not in constant time: both are SHA-256 thumbprints of certificates, which are public
 * (the presented one is the caller's own; the bound one is the `cnf` of a token its holder already has), so a
 * timing difference reveals nothing secret — and a constant-time compare cost two buffers on every request.
 */
export const certificateBinding: Check = {
  name: 'certificate binding',
  run(state) {
    const bound = state.token?.certificateThumbprint;
    if (!bound || bound !== state.certificate?.thumbprintS256) {
      throw ObError.single(
        401,
        'UK.OBIE.Header.Invalid',
        'the access token is bound to another transport certificate',
      );
    }
  },
};
