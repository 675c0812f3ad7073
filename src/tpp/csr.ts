import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// tsyringe inside @peculiar/x509 needs reflect-metadata first; pin it to Node's WebCrypto.
x509.cryptoProvider.set(globalThis.crypto);

/** The TPP keeps its private keys: they are made here, and only the CSR leaves the machine. */
export interface KeyAndCsr {
  privateKeyPem: string;
  csrPem: string;
}

const rsa = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

export async function generateKeyAndCsr(subject: {
  commonName: string;
  organizationName?: string;
}): Promise<KeyAndCsr> {
  const keys = (await webcrypto.subtle.generateKey(
    { ...rsa, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ['sign', 'verify'],
  )) as webcrypto.CryptoKeyPair;
  const rdns: Record<string, string[]>[] = [{ C: ['GB'] }];
  if (subject.organizationName) rdns.push({ O: [subject.organizationName] });
  rdns.push({ CN: [subject.commonName] });
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: new x509.Name(rdns),
    keys,
    signingAlgorithm: rsa,
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return {
    privateKeyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'),
    csrPem: csr.toString('pem'),
  };
}
