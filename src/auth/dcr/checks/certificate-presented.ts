import { DcrError } from '../errors.ts';
import type { DcrCheck } from '../types.ts';

/** A registration comes over mutual TLS with a transport certificate the listener trusts. */
export const certificatePresented: DcrCheck = (context) => {
  const { certificate, certificateVerdict: verdict } = context.input;
  if (certificate) {
    context.certificate = certificate.x509;
    return;
  }
  throw new DcrError(
    'unapproved_software_statement',
    verdict && !verdict.trusted && verdict.reason !== 'missing'
      ? `${verdict.detail}; register with the transport certificate the directory issued to this software`
      : 'register over mutual TLS with the transport certificate the directory issued to this software',
  );
};
