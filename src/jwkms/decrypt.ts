import { compactDecrypt, decodeProtectedHeader } from 'jose';
import { JwkmsError } from './errors.ts';
import type { ManagedKey } from './managed-keys.ts';

/** Decrypts a compact JWE addressed to one of the caller's managed encryption keys (by `kid`, else each in turn). */
export async function decryptForCaller(
  jwe: string,
  keys: readonly ManagedKey[],
): Promise<{ plaintext: string; kid: string }> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(jwe);
  } catch {
    throw new JwkmsError(400, 'invalid_token', 'not a compact JWE');
  }
  if (jwe.split('.').length !== 5)
    throw new JwkmsError(400, 'invalid_token', 'not a compact JWE (five parts)');
  const candidates = header.kid ? keys.filter((key) => key.kid === header.kid) : keys;
  if (candidates.length === 0) {
    throw new JwkmsError(
      400,
      'decryption_failed',
      `the JWE is for key ${String(header.kid)}, which is not one of yours`,
    );
  }
  for (const key of candidates) {
    try {
      const { plaintext } = await compactDecrypt(jwe, key.privateKey, {
        keyManagementAlgorithms: ['RSA-OAEP-256', 'RSA-OAEP'],
      });
      return { plaintext: new TextDecoder().decode(plaintext), kid: key.kid };
    } catch {
      // Try the next key; the error below says none worked.
    }
  }
  throw new JwkmsError(400, 'decryption_failed', 'none of your encryption keys decrypts this JWE');
}
