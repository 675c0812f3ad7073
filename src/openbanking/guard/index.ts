export { guard, guarded, guardedWithConsent, guardProfiles, type Guard } from './pipeline.ts';
export { createGuardCaches, type GuardCaches, type CacheOptions } from './caches.ts';
export type {
  AccessTokenView,
  Check,
  GuardDependencies,
  GuardState,
  IntentSource,
  ParticipantSource,
  TokenRevocation,
  TokenSource,
} from './types.ts';
