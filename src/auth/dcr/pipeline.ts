import { accessToken } from './checks/access-token.ts';
import { applicationType } from './checks/application-type.ts';
import { authMethod } from './checks/auth-method.ts';
import { bodyIsJwt } from './checks/body-is-jwt.ts';
import { certificateChain } from './checks/certificate-chain.ts';
import { certificateNotRevoked } from './checks/certificate-not-revoked.ts';
import { certificateOfSoftware } from './checks/certificate-of-software.ts';
import { certificatePresented } from './checks/certificate-presented.ts';
import { ciba } from './checks/ciba.ts';
import { clientRegistered } from './checks/client-registered.ts';
import { eidasOrganisation } from './checks/eidas-organisation.ts';
import { rolesOfCertificateAndSsa } from './checks/roles-of-certificate-and-ssa.ts';
import { grantTypes } from './checks/grant-types.ts';
import { participantActive } from './checks/participant-active.ts';
import { providerAccepts } from './checks/provider-accepts.ts';
import { redirectUris } from './checks/redirect-uris.ts';
import { requestAddressedToBank } from './checks/request-addressed-to-bank.ts';
import { requestIssuedBySoftware } from './checks/request-issued-by-software.ts';
import { requestKeyNotRevoked } from './checks/request-key-not-revoked.ts';
import { requestNotReplayed } from './checks/request-not-replayed.ts';
import { requestRecent } from './checks/request-recent.ts';
import { requestSignature } from './checks/request-signature.ts';
import { requestSignedWithPs256 } from './checks/request-signed-ps256.ts';
import { responseTypes } from './checks/response-types.ts';
import { sameSoftware } from './checks/same-software.ts';
import { scopeWithinRoles } from './checks/scope-within-roles.ts';
import { signingAlgorithms } from './checks/signing-algorithms.ts';
import { softwareIdMatches } from './checks/software-id-matches.ts';
import { ssaFromTrustedDirectory } from './checks/ssa-from-trusted-directory.ts';
import { ssaNamesSoftware } from './checks/ssa-names-software.ts';
import { ssaRecent } from './checks/ssa-recent.ts';
import { ssaSignature } from './checks/ssa-signature.ts';
import { tlsClientAuthSubject } from './checks/tls-client-auth-subject.ts';
import type { DcrCheck, DcrContext, DcrOperation } from './types.ts';

/** Checks that belong together, run in order; the stage's name says what they establish. */
export interface DcrStage {
  readonly stage: string;
  readonly checks: readonly DcrCheck[];
}

/** The client managing its own registration: its access token, for itself, and the registration exists. */
const caller: DcrStage = { stage: 'caller', checks: [accessToken, clientRegistered] };

/** What a registration request (POST, and PUT that replaces one) must pass after the caller is known. */
const registrationRequest = (softwareRule: readonly DcrCheck[]): DcrStage[] => [
  { stage: 'transport certificate presented', checks: [certificatePresented] },
  { stage: 'request JWT readable', checks: [bodyIsJwt, requestSignedWithPs256] },
  {
    stage: 'software statement',
    checks: [
      ssaFromTrustedDirectory,
      ssaSignature,
      ssaRecent,
      ssaNamesSoftware,
      participantActive,
      ...softwareRule,
    ],
  },
  {
    stage: 'transport certificate',
    checks: [certificateChain, certificateNotRevoked, certificateOfSoftware, eidasOrganisation],
  },
  {
    stage: 'request JWT',
    checks: [
      requestSignature,
      requestKeyNotRevoked,
      requestIssuedBySoftware,
      requestAddressedToBank,
      requestRecent,
      requestNotReplayed,
    ],
  },
  { stage: 'roles', checks: [rolesOfCertificateAndSsa] },
  {
    stage: 'metadata',
    checks: [
      softwareIdMatches,
      redirectUris,
      authMethod,
      signingAlgorithms,
      grantTypes,
      responseTypes,
      ciba,
      scopeWithinRoles,
      applicationType,
      tlsClientAuthSubject,
    ],
  },
  { stage: 'client', checks: [providerAccepts] },
];

/**
 * Open Banking Dynamic Client Registration (v3.3; v3.2 and v3.4 requests accepted), per operation: the
 * checks a request passes, in order, before the registrar acts. A check is `(context) => void` that throws
 * a DcrError (errors.ts) to refuse; adding a rule is one file in `checks/` and one line here.
 */
export const registrationPipeline: Record<DcrOperation, readonly DcrStage[]> = {
  POST: registrationRequest([]),
  GET: [caller],
  PUT: [caller, ...registrationRequest([sameSoftware])],
  DELETE: [caller],
};

/** Runs the operation's checks in order; the first refusal ends the request. */
export async function runPipeline(context: DcrContext): Promise<void> {
  for (const { checks } of registrationPipeline[context.operation]) {
    for (const check of checks) await check(context);
  }
}
