/** src/directory: the Open Banking Directory (organisations, software statements, SSAs, JWKS, certificates). */
export { mountDirectory, type DirectoryPartOptions, type MountedDirectory } from './part.ts';
export {
  DirectoryService,
  participantStatusChannel,
  participantStatusIn,
  revocationChannel,
} from './service.ts';
export { mlaStatusPath } from './http-api.ts';
export { ownJwks } from './own-jwks.ts';
export { DirectoryError } from './errors.ts';
export { MasterKeyError } from './master-key.ts';
/** Who is calling: the active transport certificate this directory issued, presented over mutual TLS. */
export { authenticate as authenticateParticipant } from './http-api.ts';
export { directoryAddresses, directoryTrustAnchor, type SsaClaims } from './ssa.ts';
