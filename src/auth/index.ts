/**
 * src/auth: the oidc-provider configuration (FAPI 1.0 Advanced, Open Banking UK), its persistence over
 * the store, the bridge the consent app talks through, Open Banking DCR, and the token check the API
 * layer uses.
 */
export {
  StoreAdapter,
  createAdapterFactory,
  revokeGrant,
  revokeIntentTokens,
  startAuthModelSweeper,
  sweepExpiredAuthModels,
} from './adapter.ts';
export {
  createAuthorizationServer,
  DEFAULT_TTL,
  DISCOVERY_PATH,
  REGISTRATION_PATH,
  ROUTES,
  SCOPES,
  type AuthorizationServer,
  type AuthorizationServerOptions,
  type AuthTtl,
} from './provider.ts';
export { authorizationServerPlugin, type AuthorizationServerPluginOptions } from './fastify.ts';
export { createInteractionBridge, InteractionStateError } from './interaction-bridge.ts';
export { generateProviderSecrets, loadOrCreateProviderSecrets, type ProviderSecrets } from './secrets.ts';
export {
  checkAccessToken,
  findAccessToken,
  revokeTokensOnConsentRevocation,
  type AccessTokenCheck,
  type AccessTokenInfo,
} from './tokens.ts';
export { certificateRoles } from './certificate-roles.ts';
export { ACR_CA, ACR_SCA, INTENT_CLAIM } from './intent-claims.ts';
export { registrationPlugin, type RegistrationPluginOptions } from './dcr/plugin.ts';
export { DCR_SPECS } from './dcr/versions.ts';
export {
  DcrAccessError,
  DcrError,
  Registrar,
  type DcrErrorCode,
  type DcrInput,
  type RegisteredClient,
  type RegistrationOptions,
  type TrustedDirectory,
} from './dcr/registration.ts';
export { RemoteJwksCache, httpsJsonFetcher, JwksFetchError, type JsonFetcher } from './dcr/jwks.ts';
export {
  mountAuthorizationServer,
  type AuthMountContext,
  type AuthPartOptions,
  type MountedAuthorizationServer,
} from './part.ts';
export { clientStatusCheck, participantOfMetadata, type ClientStatusCheck } from './participants.ts';
export { outboundAgent } from './outbound-fetch.ts';
export { callbackAgents, callbackServerIdentity, type CallbackAgents } from './callback-tls.ts';
