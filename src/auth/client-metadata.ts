import type { UnknownObject } from 'oidc-provider';

/** What `metadataOf` needs of oidc-provider's built client. */
export interface BuiltClient {
  metadata(): UnknownObject;
}

const metadataOfClient = new WeakMap<BuiltClient, Readonly<UnknownObject>>();

/**
 * A built client's metadata (`client.metadata()`), worked out once per built client. oidc-provider builds a
 * client once per stored metadata (its hash) and keeps it, so a client's metadata never changes under it (a
 * DCR update builds another client), while `metadata()` maps every property's name anew on each call: on
 * every token request (certificate binding) that was ~0.07 ms of the provider's ~0.35 ms (bench/README.md,
 * tokens, session 15). Read-only: the one object is shared by every caller.
 */
export function metadataOf(client: BuiltClient): Readonly<UnknownObject> {
  let metadata = metadataOfClient.get(client);
  if (!metadata) {
    metadata = Object.freeze(client.metadata());
    metadataOfClient.set(client, metadata);
  }
  return metadata;
}
