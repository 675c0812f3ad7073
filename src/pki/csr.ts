import { createPublicKey } from 'node:crypto';
import type { Issuer } from './authority.ts';
import { decodeDer } from './asn1.ts';
import { dnToString } from './dn.ts';
import { PkiInputError, describe } from './errors.ts';
import type { IssuedCertificate } from './issued.ts';
import { minimumRsaModulusBits } from './keys.ts';
import { issueProfileCertificate, type ProfileRequest, type SubjectKeyKind } from './profiles.ts';
import { x509 } from './x509.ts';

/** A PKCS#10 request whose signature, key and algorithm passed our checks. */
export interface CheckedCsr {
  readonly request: x509.Pkcs10CertificateRequest;
  readonly publicKey: x509.PublicKey;
  readonly keyKind: SubjectKeyKind;
  /** "RSA 2048", "EC P-256". */
  readonly keyDescription: string;
  /** The subject the requester asked for, RFC 4514 (we issue with the subject the directory decides). */
  readonly requestedSubject: string;
}

const maximumCsrBytes = 64 * 1024;
const maximumRsaModulusBits = 16384;
const acceptedHashes = new Set(['SHA-256', 'SHA-384', 'SHA-512']);
const acceptedCurves: Readonly<Record<string, string>> = { prime256v1: 'P-256', secp384r1: 'P-384' };

const weakAlgorithmNames: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.2': 'md2WithRSAEncryption, which is broken',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption, which is broken',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption, which is weak',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1, which is weak',
};

const bad = (
  code: 'csr.malformed' | 'csr.signature' | 'csr.key' | 'csr.algorithm',
  message: string,
): never => {
  throw new PkiInputError(code, message);
};

/** Extracts the DER of a CSR given as PEM text or DER bytes; says what is wrong otherwise. */
export function csrDer(input: string | Uint8Array): Uint8Array {
  if (input instanceof Uint8Array) {
    if (input.byteLength === 0) bad('csr.malformed', 'the CSR is empty');
    if (input.byteLength > maximumCsrBytes)
      bad('csr.malformed', `the CSR is larger than ${maximumCsrBytes} bytes`);
    return input;
  }
  if (typeof input !== 'string' || input.trim() === '') return bad('csr.malformed', 'the CSR is empty');
  if (input.length > maximumCsrBytes * 2)
    bad('csr.malformed', `the CSR is larger than ${maximumCsrBytes} bytes`);
  const blocks = [...input.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g)];
  if (blocks.length === 0) {
    return bad('csr.malformed', 'the CSR is not PEM: expected a "-----BEGIN CERTIFICATE REQUEST-----" block');
  }
  if (blocks.length > 1) bad('csr.malformed', `expected one PEM block, found ${blocks.length}`);
  const [, label, body, endLabel] = blocks[0]!;
  if (label !== endLabel) bad('csr.malformed', `the PEM block begins "${label}" but ends "${endLabel}"`);
  if (label !== 'CERTIFICATE REQUEST' && label !== 'NEW CERTIFICATE REQUEST') {
    const hint = /PRIVATE KEY/.test(label!) ? ' (that is a private key: never send it; send a CSR)' : '';
    bad('csr.malformed', `the PEM block is a "${label}", not a "CERTIFICATE REQUEST"${hint}`);
  }
  const base64 = body!.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || base64.length % 4 !== 0) {
    bad('csr.malformed', 'the PEM body is not valid base64');
  }
  return Uint8Array.from(Buffer.from(base64, 'base64'));
}

/**
 * Parses and checks a CSR: well-formed DER, a signature made with SHA-256/384/512 that verifies with
 * the CSR's own key (proof of possession), and an RSA key of 2048 to 16384 bits (exponent ≥ 65537) or
 * an EC key on P-256/P-384.
 */
export async function checkCsr(input: string | Uint8Array): Promise<CheckedCsr> {
  const der = csrDer(input);
  decodeDer(der, 'the CSR', 'csr.malformed');
  let request: x509.Pkcs10CertificateRequest;
  try {
    request = new x509.Pkcs10CertificateRequest(der);
  } catch (error) {
    return bad('csr.malformed', `the CSR is not a PKCS#10 CertificationRequest: ${describe(error)}`);
  }
  const { keyKind, keyDescription } = checkKey(request.publicKey);
  checkAlgorithm(request, keyKind);
  let verified = false;
  try {
    verified = await request.verify();
  } catch (error) {
    bad('csr.signature', `the CSR signature could not be checked: ${describe(error)}`);
  }
  if (!verified) bad('csr.signature', 'the CSR signature does not verify with the public key it contains');
  let requestedSubject: string;
  try {
    requestedSubject = dnToString(request.subjectName.toArrayBuffer());
  } catch (error) {
    return bad('csr.malformed', `the CSR subject is malformed: ${describe(error)}`);
  }
  return { request, publicKey: request.publicKey, keyKind, keyDescription, requestedSubject };
}

function checkKey(publicKey: x509.PublicKey): { keyKind: SubjectKeyKind; keyDescription: string } {
  let key: ReturnType<typeof createPublicKey>;
  try {
    key = createPublicKey({ key: Buffer.from(publicKey.rawData), format: 'der', type: 'spki' });
  } catch (error) {
    return bad('csr.key', `the CSR public key cannot be read: ${describe(error)}`);
  }
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa': {
      const bits = details.modulusLength ?? 0;
      if (bits < minimumRsaModulusBits) {
        bad(
          'csr.key',
          `the CSR has an RSA key of ${bits} bits; at least ${minimumRsaModulusBits} are required`,
        );
      }
      if (bits > maximumRsaModulusBits) {
        bad(
          'csr.key',
          `the CSR has an RSA key of ${bits} bits; at most ${maximumRsaModulusBits} are accepted`,
        );
      }
      const exponent = details.publicExponent ?? 0n;
      if (exponent < 65537n || exponent % 2n === 0n) {
        bad('csr.key', `the CSR's RSA public exponent ${exponent} is weak; use 65537`);
      }
      return { keyKind: 'rsa', keyDescription: `RSA ${bits}` };
    }
    case 'ec': {
      const curve = acceptedCurves[details.namedCurve ?? ''];
      if (!curve) {
        bad(
          'csr.key',
          `the CSR has an EC key on curve ${details.namedCurve ?? 'unknown'}; use P-256 or P-384`,
        );
      }
      return { keyKind: 'ec', keyDescription: `EC ${curve}` };
    }
    default:
      return bad(
        'csr.key',
        `the CSR has a key of type ${key.asymmetricKeyType ?? 'unknown'}; use RSA (2048 bits or more) or EC P-256/P-384`,
      );
  }
}

function checkAlgorithm(request: x509.Pkcs10CertificateRequest, keyKind: SubjectKeyKind): void {
  let algorithm: { name?: string; hash?: { name?: string } | string };
  try {
    algorithm = request.signatureAlgorithm as typeof algorithm;
  } catch (error) {
    return bad('csr.algorithm', `the CSR signature algorithm is not supported: ${describe(error)}`);
  }
  const name = algorithm.name ?? 'unknown';
  const hash = typeof algorithm.hash === 'string' ? algorithm.hash : (algorithm.hash?.name ?? 'none');
  if (/^[0-9.]+$/.test(name)) {
    const known = weakAlgorithmNames[name];
    bad(
      'csr.algorithm',
      `the CSR is signed with ${known ?? `an unsupported algorithm (OID ${name})`}; use SHA-256, SHA-384 or SHA-512 with RSA or ECDSA`,
    );
  }
  const expected = keyKind === 'rsa' ? ['RSASSA-PKCS1-v1_5', 'RSA-PSS'] : ['ECDSA'];
  if (!expected.includes(name)) {
    bad(
      'csr.algorithm',
      `the CSR is signed with ${name}, which does not fit its ${keyKind.toUpperCase()} key`,
    );
  }
  if (!acceptedHashes.has(hash.toUpperCase())) {
    bad('csr.algorithm', `the CSR is signed with ${name} over ${hash}; use SHA-256, SHA-384 or SHA-512`);
  }
}

/** Checks a CSR and issues the certificate of `request.profile` for its key. */
export async function issueCertificateFromCsr(
  issuer: Issuer,
  csr: string | Uint8Array,
  request: ProfileRequest,
): Promise<IssuedCertificate & { readonly csr: CheckedCsr }> {
  const checked = await checkCsr(csr);
  const issued = await issueProfileCertificate(issuer, request, checked.publicKey, checked.keyKind);
  return { ...issued, csr: checked };
}
