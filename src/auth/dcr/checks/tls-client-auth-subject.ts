import { dnEquals, parseParticipantCertificate } from '../../../pki/index.ts';
import { str } from '../claims.ts';
import { DcrError } from '../errors.ts';
import { need, type DcrCheck } from '../types.ts';

/** A tls_client_auth client names the subject DN of the transport certificate it registers with. */
export const tlsClientAuthSubject: DcrCheck = (context) => {
  if (context.client.method !== 'tls_client_auth') return;
  const subjectDn = str(need(context, 'request'), 'tls_client_auth_subject_dn');
  if (!subjectDn)
    throw new DcrError('invalid_client_metadata', 'tls_client_auth needs tls_client_auth_subject_dn');
  let matches: boolean;
  try {
    matches = dnEquals(subjectDn, parseParticipantCertificate(need(context, 'certificate')).subjectDn);
  } catch {
    matches = false;
  }
  if (!matches) {
    throw new DcrError(
      'invalid_client_metadata',
      'tls_client_auth_subject_dn is not the subject of the transport certificate',
    );
  }
  context.client.tlsClientAuthSubjectDn = subjectDn;
};
