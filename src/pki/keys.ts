import type { webcrypto } from 'node:crypto';
import { x509 } from './x509.ts';

/**
 * RSA keys for every certificate we sign. Certificates and CRLs are signed with
 * sha256WithRSAEncryption (RSASSA-PKCS1-v1_5 / SHA-256), which every TLS stack and openssl accepts;
 * the subject keys themselves are plain rsaEncryption keys, so a TPP may also use them for PS256.
 */
export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;

export const signingAlgorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

export const minimumRsaModulusBits = 2048;

export async function generateRsaKeyPair(modulusLength = 2048): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(
    { ...signingAlgorithm, modulusLength, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair;
}

export async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

export async function exportPublicKeyPem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey('spki', key);
  return x509.PemConverter.encode(der, 'PUBLIC KEY');
}

/** Imports a PKCS#8 RSA private key (PEM) as a signing key for sha256WithRSAEncryption. */
export async function importPrivateKeyPem(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  return crypto.subtle.importKey('pkcs8', der, signingAlgorithm, true, ['sign']);
}

/** A random positive serial number of 16 bytes (RFC 5280 §4.1.2.2 allows up to 20), as hex. */
export function randomSerialNumber(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return Buffer.from(bytes).toString('hex');
}
