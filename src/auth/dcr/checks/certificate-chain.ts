import { ChainValidationError, validateChain } from '../../../pki/index.ts';
import { DcrError } from '../errors.ts';
import { need, type DcrCheck } from '../types.ts';

/** The transport certificate chains to the directory's CA and is meant for client authentication. */
export const certificateChain: DcrCheck = async (context) => {
  const { options } = context;
  try {
    const chain = await validateChain(need(context, 'certificate'), {
      trustAnchors: options.trustAnchorsPem,
      ...(options.intermediatesPem ? { intermediates: options.intermediatesPem } : {}),
      purpose: 'clientAuth',
      clock: options.clock,
    });
    context.certificateIssuer = chain.path[1] ?? chain.anchor;
  } catch (error) {
    const detail = error instanceof ChainValidationError ? error.message : 'it could not be validated';
    throw new DcrError(
      'unapproved_software_statement',
      `the transport certificate is not trusted: ${detail}`,
    );
  }
};
