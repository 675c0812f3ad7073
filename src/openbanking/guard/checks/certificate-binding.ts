import { timingSafeEqual } from 'node:crypto';
import { ObError } from '../../errors.ts';
import type { Check } from '../types.ts';

/** RFC 8705 §3: the token is usable only over a connection authenticated with the certificate it is bound to. */
export const certificateBinding: Check = {
  name: 'certificate binding',
  run(state) {
    const bound = state.token?.certificateThumbprint;
    const presented = state.certificate?.thumbprintS256;
    if (
      !bound ||
      !presented ||
      bound.length !== presented.length ||
      !timingSafeEqual(Buffer.from(bound), Buffer.from(presented))
    ) {
      throw ObError.single(
        401,
        'UK.OBIE.Header.Invalid',
        'the access token is bound to another transport certificate',
      );
    }
  },
};
