import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { systemClock, type Clock } from '../shared/clock.ts';
import type { CertificateAuthority } from './authority.ts';
import { signCertificate } from './issue.ts';
import type { Issuer } from './authority.ts';
import type { IssuedKeyAndCertificate } from './issued.ts';
import { exportPrivateKeyPem, generateRsaKeyPair, type CryptoKey } from './keys.ts';
import {
  issuerHashes,
  ocspOids,
  serialHex,
  subjectPublicKeyBits,
  toPkijsCertificate,
  wholeSeconds,
} from './ocsp-common.ts';
import { normalizeSerial, revocationReasons, type CertificateStatus } from './revocation-reason.ts';
import { bundle } from './server-certificate.ts';
import { buildName } from './name.ts';
import { x509 } from './x509.ts';

/** Looks up what the CA knows of the certificate with this (lower-case hex) serial number. */
export type OcspStatusLookup = (serialNumber: string) => Promise<CertificateStatus> | CertificateStatus;

export interface OcspResponderConfig {
  /** The CA whose certificates this responder answers for. */
  readonly issuer: CertificateAuthority;
  /**
   * A delegated responder (RFC 6960 §4.2.2.2): a certificate issued by `issuer` with the OCSPSigning
   * EKU, and its key. Without it the issuer signs the responses itself.
   */
  readonly signer?: { readonly certificate: x509.X509Certificate; readonly privateKey: CryptoKey };
  readonly clock?: Clock;
  /** nextUpdate − thisUpdate: how long relying parties may cache an answer. Default 10 minutes. */
  readonly validitySeconds?: number;
  /** Most certificates asked about in one request. Default 32. */
  readonly maxRequests?: number;
}

/** RFC 6960 §4.2.1 OCSPResponseStatus. */
const responseStatus = {
  successful: 0,
  malformedRequest: 1,
  internalError: 2,
  tryLater: 3,
  sigRequired: 5,
  unauthorized: 6,
} as const;

interface Prepared {
  issuer: pkijs.Certificate;
  signerCertificate: pkijs.Certificate | undefined;
  signerKey: CryptoKey;
  responderKeyHash: Buffer;
  hashes: Map<string, { nameHash: Buffer; keyHash: Buffer } | undefined>;
}
const prepared = new WeakMap<OcspResponderConfig, Prepared>();

function prepare(config: OcspResponderConfig): Prepared {
  let found = prepared.get(config);
  if (!found) {
    const issuer = toPkijsCertificate(config.issuer.certificate);
    const signerCertificate = config.signer ? toPkijsCertificate(config.signer.certificate) : undefined;
    found = {
      issuer,
      signerCertificate,
      signerKey: config.signer?.privateKey ?? config.issuer.privateKey,
      responderKeyHash: createHash('sha1')
        .update(subjectPublicKeyBits(signerCertificate ?? issuer))
        .digest(),
      hashes: new Map(),
    };
    prepared.set(config, found);
  }
  return found;
}

function bare(status: number): Uint8Array {
  return new Uint8Array(
    new pkijs.OCSPResponse({ responseStatus: new asn1js.Enumerated({ value: status }) }).toSchema().toBER(),
  );
}

/**
 * Answers a DER OCSPRequest (RFC 6960) with a DER OCSPResponse, signed by the issuer or the delegated
 * responder. Never throws: a request it cannot parse gets `malformedRequest`, one about another CA
 * `unauthorized`, a failing lookup `internalError`. A nonce in the request is echoed back.
 */
export async function answerOcsp(
  requestDer: Uint8Array,
  lookupStatus: OcspStatusLookup,
  config: OcspResponderConfig,
): Promise<Uint8Array> {
  let request: pkijs.OCSPRequest;
  try {
    const decoded = asn1js.fromBER(requestDer);
    if (decoded.offset === -1 || decoded.offset !== requestDer.byteLength)
      return bare(responseStatus.malformedRequest);
    request = new pkijs.OCSPRequest({ schema: decoded.result });
  } catch {
    return bare(responseStatus.malformedRequest);
  }
  const entries = request.tbsRequest.requestList;
  if (entries.length === 0 || entries.length > (config.maxRequests ?? 32))
    return bare(responseStatus.malformedRequest);
  const nonce = request.tbsRequest.requestExtensions?.find(
    (extension) => extension.extnID === ocspOids.nonce,
  );
  if (nonce && !validNonce(nonce)) return bare(responseStatus.malformedRequest);

  const state = prepare(config);
  const now = wholeSeconds((config.clock ?? systemClock).now());
  const nextUpdate = new Date(now.getTime() + (config.validitySeconds ?? 600) * 1000);
  const responses: pkijs.SingleResponse[] = [];
  let ours = 0;
  try {
    for (const entry of entries) {
      const certId = entry.reqCert;
      const hashOid = certId.hashAlgorithm.algorithmId;
      if (!state.hashes.has(hashOid)) state.hashes.set(hashOid, issuerHashes(state.issuer, hashOid));
      const hashes = state.hashes.get(hashOid);
      const matches =
        hashes !== undefined &&
        hashes.nameHash.equals(certId.issuerNameHash.valueBlock.valueHexView) &&
        hashes.keyHash.equals(certId.issuerKeyHash.valueBlock.valueHexView);
      let status: CertificateStatus = { status: 'unknown' };
      if (matches) {
        ours++;
        status = await lookupStatus(normalizeSerial(serialHex(certId.serialNumber)));
      }
      responses.push(
        new pkijs.SingleResponse({
          certID: certId,
          certStatus: certStatusValue(status),
          thisUpdate: now,
          nextUpdate,
        }),
      );
    }
  } catch {
    return bare(responseStatus.internalError);
  }
  if (ours === 0) return bare(responseStatus.unauthorized);

  const basic = new pkijs.BasicOCSPResponse();
  basic.tbsResponseData.responderID = new asn1js.OctetString({ valueHex: state.responderKeyHash });
  basic.tbsResponseData.producedAt = now;
  basic.tbsResponseData.responses = responses;
  if (nonce) basic.tbsResponseData.responseExtensions = [nonce];
  if (state.signerCertificate) basic.certs = [state.signerCertificate];
  try {
    await basic.sign(state.signerKey, 'SHA-256');
  } catch {
    return bare(responseStatus.internalError);
  }
  const response = new pkijs.OCSPResponse({
    responseStatus: new asn1js.Enumerated({ value: responseStatus.successful }),
    responseBytes: new pkijs.ResponseBytes({
      responseType: ocspOids.basic,
      response: new asn1js.OctetString({ valueHex: basic.toSchema().toBER() }),
    }),
  });
  return new Uint8Array(response.toSchema().toBER());
}

/** RFC 8954 §2.1: the nonce is an OCTET STRING of 1 to 32 octets; anything else is a malformed request. */
function validNonce(extension: pkijs.Extension): boolean {
  const inner = asn1js.fromBER(extension.extnValue.valueBlock.valueHexView);
  if (inner.offset === -1 || !(inner.result instanceof asn1js.OctetString)) return false;
  const length = inner.result.valueBlock.valueHexView.byteLength;
  return length >= 1 && length <= 32;
}

/** CertStatus ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT NULL } */
function certStatusValue(status: CertificateStatus): asn1js.AsnType {
  switch (status.status) {
    case 'good':
      return new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 } });
    case 'unknown':
      return new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 2 } });
    case 'revoked': {
      const value: asn1js.AsnType[] = [
        new asn1js.GeneralizedTime({ valueDate: wholeSeconds(status.revokedAt) }),
      ];
      if (status.reason && status.reason !== 'unspecified') {
        value.push(
          new asn1js.Constructed({
            idBlock: { tagClass: 3, tagNumber: 0 },
            value: [new asn1js.Enumerated({ value: revocationReasons[status.reason] })],
          }),
        );
      }
      return new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 1 }, value });
    }
  }
}

/**
 * A delegated OCSP responder certificate (EKU OCSPSigning, id-pkix-ocsp-nocheck) with a fresh key,
 * so the issuing CA's key need not sign every response.
 */
export async function issueOcspResponderCertificate(
  issuer: Issuer,
  options: { commonName?: string; validityDays?: number; clock?: Clock } = {},
): Promise<IssuedKeyAndCertificate & { readonly privateKey: CryptoKey }> {
  const keys = await generateRsaKeyPair();
  const certificate = await signCertificate(
    issuer,
    {
      subject: buildName([
        ['C', 'GB'],
        [
          'CN',
          options.commonName ?? `${issuer.certificate.subjectName.getField('CN')[0] ?? 'CA'} OCSP Responder`,
        ],
      ]),
      publicKey: keys.publicKey,
      validityDays: options.validityDays ?? 90,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([ocspOids.ocspSigning]),
        new x509.Extension(ocspOids.noCheck, false, new asn1js.Null().toBER()),
      ],
    },
    { clock: options.clock },
  );
  return {
    ...bundle(issuer, certificate, await exportPrivateKeyPem(keys.privateKey)),
    privateKey: keys.privateKey,
  };
}
