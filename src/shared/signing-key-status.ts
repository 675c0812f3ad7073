/**
 * Whether a participant's published signing key may still verify what it signed: request objects and client
 * assertions (authorization server), registration requests (DCR), `x-jws-signature`s (payment APIs). Every
 * verifier asks it about the very JWK it is about to use, because a key set fetched before the directory
 * revoked a key is kept for minutes. The server answers with the certificate-status gate for the key's
 * `x5c` certificate (src/server/signing-key-status.ts); `publishedRevocationOf` is the part every verifier
 * shares.
 */
export interface SigningKeyStatus {
  /** Why this key must not verify anything any more, or undefined when it may. */
  refusalOf(jwk: PublishedKey): Promise<string | undefined>;
}

/** The members of a JWK that tell of its status. */
export interface PublishedKey {
  kid?: string | undefined;
  x5c?: readonly string[] | undefined;
  [member: string]: unknown;
}

/**
 * A key its JWKS itself marks as revoked: the Open Banking directory's `revoked` member, or our sandbox
 * directory's `revoked_at` (src/directory/jwk.ts) — a set that lists revoked keys beside live ones.
 */
export function publishedRevocationOf(jwk: PublishedKey): string | undefined {
  if (jwk['revoked'] === undefined && jwk['revoked_at'] === undefined) return undefined;
  return `the signing key ${jwk.kid ?? '(no kid)'} is marked revoked in its JWKS`;
}

/** Without a certificate-status gate (a part mounted alone): only what the JWKS itself says. */
export const publishedStatusOnly: SigningKeyStatus = {
  refusalOf: async (jwk) => publishedRevocationOf(jwk),
};
