import { CompactEncrypt, type CryptoKey, type KeyObject } from 'jose';

/** Sign-then-encrypt: the signed JWT becomes the plaintext of a JWE for the recipient (RFC 7519 §5.2 nested JWT). */
export async function encryptForRecipient(
  signedJwt: string,
  recipient: { key: CryptoKey | KeyObject | Uint8Array; kid: string | undefined },
): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(signedJwt))
    .setProtectedHeader({
      alg: 'RSA-OAEP-256',
      enc: 'A256GCM',
      cty: 'JWT',
      ...(recipient.kid ? { kid: recipient.kid } : {}),
    })
    .encrypt(recipient.key);
}
