import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { systemClock, type Clock } from '../shared/clock.ts';
import { canonicalDn, dnToString } from './dn.ts';
import { describe } from './errors.ts';
import { ocspOids, subjectPublicKeyBits, toPkijsCertificate } from './ocsp-common.ts';
import { reasonName, type CertificateStatus } from './revocation-reason.ts';
import { x509 } from './x509.ts';

/** An OCSP answer that could not be used; the message says why. */
export class OcspResponseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OcspResponseError';
  }
}

export interface OcspRequestBuilt {
  readonly der: Uint8Array;
  readonly nonce: Uint8Array;
  readonly certId: pkijs.CertID;
}

/** A DER OCSPRequest for one certificate (SHA-1 CertID, as RFC 6960 responders expect), with a fresh nonce. */
export async function buildOcspRequest(
  certificate: x509.X509Certificate,
  issuer: x509.X509Certificate,
): Promise<OcspRequestBuilt> {
  const request = new pkijs.OCSPRequest();
  await request.createForCertificate(toPkijsCertificate(certificate), {
    hashAlgorithm: 'SHA-1',
    issuerCertificate: toPkijsCertificate(issuer),
  });
  const nonce = crypto.getRandomValues(new Uint8Array(16));
  request.tbsRequest.requestExtensions = [
    new pkijs.Extension({
      extnID: ocspOids.nonce,
      critical: false,
      extnValue: new asn1js.OctetString({ valueHex: nonce }).toBER(),
    }),
  ];
  const certId = request.tbsRequest.requestList[0]!.reqCert;
  return { der: new Uint8Array(request.toSchema(true).toBER()), nonce, certId };
}

export interface OcspAnswer {
  readonly status: CertificateStatus;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
}

export interface ReadOcspOptions {
  readonly certificate: x509.X509Certificate;
  readonly issuer: x509.X509Certificate;
  readonly request: OcspRequestBuilt;
  readonly clock?: Clock;
  /** Tolerated clock difference with the responder. Default 5 minutes. */
  readonly skewSeconds?: number;
}

const statusNames = [
  'successful',
  'malformedRequest',
  'internalError',
  'tryLater',
  '4',
  'sigRequired',
  'unauthorized',
];

/**
 * Reads and verifies a DER OCSPResponse for the certificate of `request`: a basic response, signed by
 * the issuer or by a responder the issuer delegated to (OCSPSigning EKU, valid now), nonce echoed
 * when present, current (thisUpdate not in the future, nextUpdate not past).
 */
export async function readOcspResponse(der: Uint8Array, options: ReadOcspOptions): Promise<OcspAnswer> {
  const now = (options.clock ?? systemClock).now().getTime();
  const skew = (options.skewSeconds ?? 300) * 1000;
  let response: pkijs.OCSPResponse;
  let basic: pkijs.BasicOCSPResponse;
  try {
    response = pkijs.OCSPResponse.fromBER(der);
  } catch (error) {
    throw new OcspResponseError(`the OCSP response is not DER OCSPResponse: ${describe(error)}`);
  }
  const status = response.responseStatus.valueBlock.valueDec;
  if (status !== 0)
    throw new OcspResponseError(`the OCSP responder answered ${statusNames[status] ?? status}`);
  if (response.responseBytes?.responseType !== ocspOids.basic) {
    throw new OcspResponseError('the OCSP response is not a basic OCSP response');
  }
  try {
    basic = pkijs.BasicOCSPResponse.fromBER(response.responseBytes.response.valueBlock.valueHexView);
  } catch (error) {
    throw new OcspResponseError(`the basic OCSP response is malformed: ${describe(error)}`);
  }

  const issuer = toPkijsCertificate(options.issuer);
  const signer = await responderCertificate(basic, issuer, options.issuer, now);
  const engine = pkijs.getCrypto(true);
  const signatureOk = await engine
    .verifyWithPublicKey(
      basic.tbsResponseData.tbsView,
      basic.signature,
      signer.subjectPublicKeyInfo,
      basic.signatureAlgorithm,
    )
    .catch(() => false);
  if (!signatureOk) throw new OcspResponseError('the OCSP response signature does not verify');

  const nonce = basic.tbsResponseData.responseExtensions?.find(
    (extension) => extension.extnID === ocspOids.nonce,
  );
  if (nonce) {
    const expected = new asn1js.OctetString({ valueHex: options.request.nonce }).toBER();
    if (!Buffer.from(nonce.extnValue.valueBlock.valueHexView).equals(Buffer.from(expected))) {
      throw new OcspResponseError('the OCSP response nonce does not match the request (replayed response?)');
    }
  }

  const single = basic.tbsResponseData.responses.find((candidate) =>
    candidate.certID.isEqual(options.request.certId),
  );
  if (!single) throw new OcspResponseError('the OCSP response does not mention the certificate asked about');
  if (single.thisUpdate.getTime() > now + skew) {
    throw new OcspResponseError(
      `the OCSP response's thisUpdate ${single.thisUpdate.toISOString()} is in the future`,
    );
  }
  if (single.nextUpdate && single.nextUpdate.getTime() < now - skew) {
    throw new OcspResponseError(`the OCSP response expired at ${single.nextUpdate.toISOString()}`);
  }
  return {
    status: decodeStatus(single.certStatus),
    thisUpdate: single.thisUpdate,
    nextUpdate: single.nextUpdate,
  };
}

async function responderCertificate(
  basic: pkijs.BasicOCSPResponse,
  issuer: pkijs.Certificate,
  issuerX509: x509.X509Certificate,
  now: number,
): Promise<pkijs.Certificate> {
  const responderId: unknown = basic.tbsResponseData.responderID;
  const matches = (certificate: pkijs.Certificate): boolean => {
    if (responderId instanceof asn1js.OctetString) {
      const keyHash = createHash('sha1').update(subjectPublicKeyBits(certificate)).digest();
      return keyHash.equals(responderId.valueBlock.valueHexView);
    }
    if (responderId instanceof pkijs.RelativeDistinguishedNames) {
      return (
        canonicalDn(dnToString(new Uint8Array(responderId.toSchema().toBER()))) ===
        canonicalDn(dnToString(new Uint8Array(certificate.subject.toSchema().toBER())))
      );
    }
    return false;
  };
  if (matches(issuer)) return issuer;
  for (const candidate of basic.certs ?? []) {
    if (!matches(candidate)) continue;
    const delegated = new x509.X509Certificate(candidate.toSchema(true).toBER());
    const signedByIssuer = await delegated
      .verify({ publicKey: issuerX509.publicKey, signatureOnly: true })
      .catch(() => false);
    if (!signedByIssuer)
      throw new OcspResponseError('the OCSP responder certificate was not issued by the CA');
    const eku = delegated.getExtension(x509.ExtendedKeyUsageExtension)?.usages.map(String) ?? [];
    if (!eku.includes(ocspOids.ocspSigning)) {
      throw new OcspResponseError('the OCSP responder certificate lacks the OCSPSigning extended key usage');
    }
    if (delegated.notBefore.getTime() > now || delegated.notAfter.getTime() < now) {
      throw new OcspResponseError('the OCSP responder certificate is not valid now');
    }
    return candidate;
  }
  throw new OcspResponseError(
    'the OCSP response is signed by neither the CA nor a responder it delegated to',
  );
}

function decodeStatus(certStatus: unknown): CertificateStatus {
  const block = certStatus as { idBlock?: { tagNumber?: number }; valueBlock?: { value?: unknown[] } };
  switch (block.idBlock?.tagNumber) {
    case 0:
      return { status: 'good' };
    case 1: {
      const [time, reasonWrapper] = block.valueBlock?.value ?? [];
      const revokedAt = time instanceof asn1js.GeneralizedTime ? time.toDate() : undefined;
      if (!revokedAt) throw new OcspResponseError('the OCSP revoked status has no revocation time');
      const inner = (reasonWrapper as { valueBlock?: { value?: unknown[] } } | undefined)?.valueBlock
        ?.value?.[0];
      const reason = inner instanceof asn1js.Enumerated ? reasonName(inner.valueBlock.valueDec) : undefined;
      return { status: 'revoked', revokedAt, ...(reason ? { reason } : {}) };
    }
    case 2:
      return { status: 'unknown' };
    default:
      throw new OcspResponseError('the OCSP response carries an unknown certificate status');
  }
}
