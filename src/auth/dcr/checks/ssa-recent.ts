import { DcrError } from '../errors.ts';
import { need, type DcrCheck } from '../types.ts';

/** The software statement was issued recently (by its `iat`), and not in the future. */
export const ssaRecent: DcrCheck = (context) => {
  const iat = need(context, 'ssa')['iat'];
  if (typeof iat !== 'number')
    throw new DcrError('invalid_software_statement', 'the software statement has no iat');
  if (iat > context.now + context.tolerance) {
    throw new DcrError('invalid_software_statement', 'the software statement was issued in the future');
  }
  if (context.now - iat > (context.options.ssaMaxAgeSeconds ?? 7 * 24 * 3600)) {
    throw new DcrError(
      'invalid_software_statement',
      'the software statement is too old: fetch a fresh one from the directory',
    );
  }
};
