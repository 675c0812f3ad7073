import { clientCertificateOf } from '../../../shared/client-certificate.ts';
import { ObError } from '../../errors.ts';
import type { Check } from '../types.ts';

/** The mTLS surface has verified the certificate (direct or proxy mode); here we only require that there is one. */
export const transportCertificate: Check = {
  name: 'transport certificate',
  run(state) {
    const certificate = clientCertificateOf(state.request.raw);
    if (!certificate) {
      throw ObError.single(401, 'UK.OBIE.Header.Missing', 'a trusted transport certificate is required');
    }
    state.certificate = certificate;
  },
};
