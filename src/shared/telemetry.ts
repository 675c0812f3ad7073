/**
 * What parts tell the operator's metrics (src/operator/metrics) without knowing about them: the auth part
 * when oidc-provider issues tokens, the server when a client certificate's status is asked. One per platform
 * instance (several run in one test process), handed down through the part context.
 */
export interface Telemetry {
  /** oidc-provider answered a token request of `grantType` with tokens (its `grant.success` event). */
  tokenIssued(grantType: string): void;
  /** A client certificate's revocation status was asked on a request (answered from cache or a responder). */
  certificateStatusChecked(result: CertificateCheckResult): void;
}

/** `good`: accepted; `revoked`; `unavailable`: no responder answered; `foreign_issuer`: no configured CA issued it. */
export type CertificateCheckResult = 'good' | 'revoked' | 'unavailable' | 'foreign_issuer';

/** For platforms started without operator recording (the benchmark's baseline). */
export const noTelemetry: Telemetry = {
  tokenIssued: () => undefined,
  certificateStatusChecked: () => undefined,
};
