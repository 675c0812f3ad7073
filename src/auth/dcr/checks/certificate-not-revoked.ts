import { RevocationError } from '../../../pki/index.ts';
import { DcrError } from '../errors.ts';
import { need, type DcrCheck } from '../types.ts';

/** The transport certificate is not revoked (OCSP, then the CRL). */
export const certificateNotRevoked: DcrCheck = async (context) => {
  try {
    await context.options.revocation.assertNotRevoked(
      need(context, 'certificate'),
      need(context, 'certificateIssuer'),
    );
  } catch (error) {
    const detail = error instanceof RevocationError ? error.message : 'its status could not be checked';
    throw new DcrError('unapproved_software_statement', `the transport certificate was refused: ${detail}`);
  }
};
