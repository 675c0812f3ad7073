import { isHttps, str, stringArray } from '../claims.ts';
import { DcrError } from '../errors.ts';
import { need, type DcrCheck } from '../types.ts';

/** The software statement names the software, its organisation, its keys, redirect URIs and roles. */
export const ssaNamesSoftware: DcrCheck = (context) => {
  const ssa = need(context, 'ssa');
  for (const name of ['software_id', 'org_id', 'software_jwks_endpoint'] as const) {
    if (!str(ssa, name))
      throw new DcrError('invalid_software_statement', `the software statement has no ${name}`);
  }
  if (!isHttps(str(ssa, 'software_jwks_endpoint') ?? '')) {
    throw new DcrError('invalid_software_statement', 'software_jwks_endpoint must be an https URL');
  }
  if (!stringArray(ssa['software_redirect_uris']) || !stringArray(ssa['software_roles'])) {
    throw new DcrError(
      'invalid_software_statement',
      'software_redirect_uris and software_roles must be lists of strings',
    );
  }
};
