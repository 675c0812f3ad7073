import assert from 'node:assert/strict';
import { randomUUID, X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CompactSign, flattenedVerify, importPKCS8, importX509 } from 'jose';
import { Agent, request } from 'undici';
import { clientCredentialsToken } from '../../src/tpp/authorization.ts';
import { apiBaseOf } from '../../src/tpp/open-banking.ts';
import { readBundle } from '../../src/tpp/bundle.ts';
import { runCli } from '../support/cli.ts';
import { startSandbox, type Tpp } from '../support/journey.ts';
import { assertValidResponse, PIS_V3_1_11 } from '../support/openapi.ts';

/*
 * The sandbox with `signingTrustAnchor` = `openbanking.org.uk`, so that OB's own conformance tools can run
 * against it. The signatures here are made and checked with plain jose and undici, the way OpenBankingUK's
 * conformance suite makes a TPP's and checks an ASPSP's (pkg/authentication: signature.go, certificate.go),
 * never through obkit's own signer or verifier.
 */

const TAN = 'openbanking.org.uk';
const IAT = 'http://openbanking.org.uk/iat';
const ISS = 'http://openbanking.org.uk/iss';
const TAN_CLAIM = 'http://openbanking.org.uk/tan';
const CRITICAL = { [IAT]: true, [ISS]: true, [TAN_CLAIM]: true };

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

async function fetchText(dispatcher: Agent, url: string, init: Parameters<typeof request>[1] = {}) {
  const response = await request(url, { ...init, dispatcher });
  return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
}

/** The conformance suite's TPP `iss` (certificate.go SignatureIssuer): the signing certificate's OU/CN. */
function issuerFromCertificate(pem: string): string {
  const parts = Object.fromEntries(
    new X509Certificate(pem).subject.split('\n').map((line) => line.split('=') as [string, string]),
  );
  return `${parts.OU}/${parts.CN}`;
}

/** A v3.1.4+ detached signature as the suite's GetSignatureToken314Plus builds it, with the claims given. */
async function suiteSignature(tpp: Tpp, body: string, claims: { iss: string; tan: string }): Promise<string> {
  const key = await importPKCS8(tpp.bundle.signingKeyPem, 'PS256');
  const compact = await new CompactSign(new TextEncoder().encode(body))
    .setProtectedHeader({
      typ: 'JOSE',
      kid: tpp.bundle.summary.certificates.signing.kid,
      cty: 'application/json',
      [IAT]: Math.floor(Date.now() / 1000),
      [ISS]: claims.iss,
      [TAN_CLAIM]: claims.tan,
      alg: 'PS256',
      crit: [IAT, ISS, TAN_CLAIM],
    })
    .sign(key, { crit: CRITICAL });
  const [header, , signature] = compact.split('.');
  return `${header}..${signature}`;
}

describe('the sandbox under the Open Banking Directory trust anchor (signingTrustAnchor: openbanking.org.uk)', async () => {
  const sandbox = await startSandbox({ env: { OBKIT_SIGNING_TRUST_ANCHOR: TAN } });
  const tpp = await sandbox.tpp('ob-tan', ['PISP'], { trustAnchor: TAN });
  const browser = new Agent({ connect: { ca: [sandbox.rootPem] } });
  const mtls = new Agent({
    connect: {
      ca: [sandbox.rootPem],
      cert: tpp.bundle.transportCertificatePem,
      key: tpp.bundle.transportKeyPem,
    },
  });
  const consents = `${apiBaseOf(tpp.bank)}/pisp/domestic-payment-consents`;
  const consentBody = JSON.stringify({
    Data: {
      Initiation: {
        InstructionIdentification: 'OBTAN-1',
        EndToEndIdentification: 'OBTAN-E2E',
        InstructedAmount: { Amount: '3.50', Currency: 'GBP' },
        CreditorAccount: {
          SchemeName: 'UK.OBIE.SortCodeAccountNumber',
          Identification: '20000319470104',
          Name: 'Messers Simplex & Co',
        },
      },
    },
    Risk: {},
  });
  const token = (await clientCredentialsToken(tpp.bank, 'payments')).access_token;
  const postConsent = (signature: string): Promise<Answer> =>
    fetchText(mtls, consents, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json',
        'x-fapi-interaction-id': randomUUID(),
        'x-idempotency-key': randomUUID(),
        'x-jws-signature': signature,
      },
      body: consentBody,
    });

  // First: JWKms makes the TPP a new signing key, which must be in the software JWKS before the bank first
  // fetches it (a fetched JWKS is refetched for an unknown kid at most every 30 seconds).
  it("accepts a request JWKms signed for the TPP: it signs with the sandbox's trust anchor", async () => {
    const signed = await fetchText(mtls, `${sandbox.platform.urls.mtls}/jwkms/v1/sign-detached`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ payload: consentBody }),
    });
    assert.equal(signed.status, 200, signed.text);
    const { signature } = JSON.parse(signed.text) as { signature: string };
    const header = JSON.parse(Buffer.from(signature.split('.')[0]!, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    assert.equal(header[TAN_CLAIM], TAN);
    const answer = await postConsent(signature);
    assert.equal(answer.status, 201, answer.text);
  });

  it("accepts a TPP request signed as the conformance suite signs it, and the response verifies as the suite verifies an ASPSP's", async () => {
    const iss = issuerFromCertificate(tpp.bundle.signingCertificatePem);
    assert.equal(iss, `${tpp.bundle.summary.organisation.id}/${tpp.bundle.summary.software.id}`);
    const answer = await postConsent(await suiteSignature(tpp, consentBody, { iss, tan: TAN }));
    assert.equal(answer.status, 201, answer.text);
    assertValidResponse(PIS_V3_1_11, '/domestic-payment-consents', 'post', 201, JSON.parse(answer.text));

    // The bank as the directory lists it: its organisation and where its signing keys are.
    const listed = await fetchText(browser, `${sandbox.platform.urls.browser}/directory/v1/aspsps`);
    assert.equal(listed.status, 200, listed.text);
    const bank = (
      JSON.parse(listed.text) as {
        aspsps: { discoveryUrl: string; orgId?: string; signingJwksUri?: string }[];
      }
    ).aspsps.find((aspsp) => aspsp.discoveryUrl === sandbox.discoveryUrl);
    assert.ok(bank?.orgId && bank.signingJwksUri, `the sandbox bank is listed with its keys: ${listed.text}`);

    // ValidateSignatureHeader (v3.1.4 and newer, b64 not used).
    const signature = answer.headers['x-jws-signature'];
    assert.equal(typeof signature, 'string', 'the response carries x-jws-signature');
    const [protectedHeader = '', payload, value = ''] = String(signature).split('.');
    assert.equal(payload, '', 'the payload is detached');
    const header = JSON.parse(Buffer.from(protectedHeader, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    if ('typ' in header) assert.equal(header.typ, 'JOSE');
    assert.equal(header.alg, 'PS256');
    assert.ok(typeof header.kid === 'string' && header.kid !== '');
    if ('cty' in header) assert.ok(['json', 'application/json'].includes(String(header.cty)));
    assert.equal('b64' in header, false, 'no b64 from Read/Write 3.1.4 on');
    assert.deepEqual([...(header.crit as string[])].sort(), [IAT, ISS, TAN_CLAIM].sort());
    const iat = header[IAT];
    assert.ok(typeof iat === 'number' && Number.isInteger(iat) && iat > 0, `iat ${String(iat)}`);
    assert.ok(iat <= Math.floor(Date.now() / 1000) + 30, 'iat is not in the future');
    assert.equal(header[TAN_CLAIM], TAN);
    assert.equal(header[ISS], bank.orgId, "an ASPSP's iss under openbanking.org.uk is its organisation id");

    // ValidateSignature: the key by kid from the bank's JWKS, its certificate (x5c) verifying the body.
    const jwks = await fetchText(browser, bank.signingJwksUri);
    assert.equal(jwks.status, 200, jwks.text);
    const jwk = (JSON.parse(jwks.text) as { keys: { kid: string; x5c?: string[] }[] }).keys.find(
      (key) => key.kid === header.kid,
    );
    assert.ok(jwk?.x5c?.[0], `the bank's JWKS has key ${String(header.kid)} with its certificate`);
    const certificate = `-----BEGIN CERTIFICATE-----\n${jwk.x5c[0]}\n-----END CERTIFICATE-----`;
    const verified = await flattenedVerify(
      {
        protected: protectedHeader,
        payload: Buffer.from(answer.text).toString('base64url'),
        signature: value,
      },
      await importX509(certificate, 'PS256'),
      { algorithms: ['PS256'], crit: CRITICAL },
    );
    assert.equal(Buffer.from(verified.payload).toString('utf8'), answer.text);
  });

  it("refuses a TPP request whose iss is not the TPP's <org id>/<software id>, or whose tan is another trust anchor", async () => {
    const { organisation, software } = tpp.bundle.summary;
    for (const [iss, tan, names] of [
      [organisation.id, TAN, ISS], // the ASPSP form: an organisation id alone
      [`${organisation.id}/another-software`, TAN, ISS],
      [`${organisation.id}/${software.id}`, new URL(sandbox.platform.urls.browser).host, TAN_CLAIM],
    ] as const) {
      const answer = await postConsent(await suiteSignature(tpp, consentBody, { iss, tan }));
      assert.equal(answer.status, 400, `${iss} ${tan}: ${answer.text}`);
      const body = JSON.parse(answer.text) as {
        Code: string;
        Id?: string;
        Message: string;
        Errors: { ErrorCode: string; Message: string; Path?: string }[];
      };
      assertValidResponse(PIS_V3_1_11, '/domestic-payment-consents', 'post', 400, body);
      assert.equal(body.Errors.length, 1);
      assert.equal(body.Errors[0]?.ErrorCode, 'UK.OBIE.Signature.InvalidClaim');
      assert.ok(body.Errors[0]?.Message.includes(names), body.Errors[0]?.Message);
      if (names === ISS) {
        assert.ok(body.Errors[0]?.Message.endsWith(`signs as ${organisation.id}/${software.id}`));
      }
    }
  });

  it('runs obkit tpp onboard --trust-anchor, register and pay end to end', async () => {
    const caFile = join(sandbox.platform.dataDir, 'pki', 'root-ca.pem');
    const out = join(mkdtempSync(join(tmpdir(), 'obkit-obtan-')), 'bundle');
    const onboarded = await runCli([
      'tpp',
      'onboard',
      '--name',
      'OB Tan CLI',
      '--roles',
      'PISP',
      '--redirect-uri',
      'https://ob-tan-cli.example/callback',
      '--out',
      out,
      '--directory',
      sandbox.platform.urls.browser,
      '--ca',
      caFile,
      '--trust-anchor',
      TAN,
    ]);
    assert.equal(onboarded.code, 0, onboarded.stderr);
    assert.equal(readBundle(out).summary.directory.trustAnchor, TAN);
    const registered = await runCli([
      'tpp',
      'register',
      '--bundle',
      out,
      '--bank',
      sandbox.discoveryUrl,
      '--ca',
      caFile,
    ]);
    assert.equal(registered.code, 0, registered.stderr);
    const paid = await runCli(
      ['tpp', 'pay', '--bundle', out, '--amount', '2.00', '--json', '--ca', caFile],
      {},
      120_000,
    );
    assert.equal(paid.code, 0, paid.stderr);
    const payment = JSON.parse(paid.stdout) as { DomesticPaymentId: string; Status: string };
    assert.ok(payment.DomesticPaymentId);
    // v4.0, the default: settled as ISO 20022 says it (ACSC or ACCC).
    assert.ok(['ACSC', 'ACCC'].includes(payment.Status), payment.Status);
  });
});
