/** src/openbanking: the Read/Write HTTP APIs, their guard, FAPI headers, OB errors and wire mappings. */
export {
  mountOpenBanking,
  type MountedOpenBanking,
  type OpenBankingDependencies,
  type OpenBankingMountContext,
} from './part.ts';
export { ObError, obErrorBody, obErrorBodyFor, type ObErrorCode, type ObErrorResponse } from './errors.ts';
export {
  API_VERSIONS,
  VERSION_BASES,
  VERSION_SPECS,
  consentUsableOn,
  type ApiVersion,
  type VersionBases,
} from './versions.ts';
export { DISCOVERY_PATH as READ_WRITE_DISCOVERY_PATH } from './discovery.ts';
export { API_BASES, readWriteUrl } from './http/wire.ts';
export type { AccessTokenView, TokenRevocation, TokenSource } from './guard/index.ts';
export {
  DEFAULT_PUSH_POLICY,
  deliverDueEvents,
  startPushDelivery,
  type EventTokenContext,
  type PushDeliverer,
  type PushDeliveryDependencies,
} from './events/index.ts';
export { mountApiDocs, DOCS_PATH } from './docs/pages.ts';
export { servedDocuments, type ApiDocument, type ServedApis } from './docs/catalogue.ts';
