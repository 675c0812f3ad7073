import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { revocationChannel } from '../../src/directory/index.ts';
import { call } from '../support/platform.ts';
import { openssl, opensslAsync, scratch, splitChain, startDirectory } from './support.ts';

describe('revocation: OCSP and CRL over HTTPS, checked by openssl', async () => {
  const directory = await startDirectory();
  const onboarded = await directory.onboard();
  const answer = onboarded.body;
  const files = scratch();
  const chain = splitChain(answer.caChainPem);
  const root = files.write('root.pem', chain.root);
  const issuing = files.write('issuing.pem', chain.issuing);
  const transport = files.write('transport.pem', answer.certificates.transport.pem);
  const signing = files.write('signing.pem', answer.certificates.signing.pem);
  const participant = directory.asParticipant(
    answer.certificates.transport.pem,
    onboarded.transport.privateKeyPem,
  );
  const softwareUrl = `${directory.platform.urls.mtls}/directory/v1/software/${answer.software.id}`;

  const ocsp = (certificate: string) =>
    opensslAsync([
      'ocsp',
      '-url',
      `${directory.base}/ocsp`,
      '-CAfile',
      root,
      '-issuer',
      issuing,
      '-cert',
      certificate,
    ]);

  it('openssl ocsp reports good for a fresh certificate, with a response it verifies', async () => {
    const result = await ocsp(signing);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr + result.stdout, /Response verify OK/);
    assert.match(result.stdout, new RegExp(`${signing.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: good`));
  });

  it('the CRL lists nothing yet and verifies against the issuing CA', async () => {
    const response = await binary(`${directory.base}/crl`);
    assert.equal(response.status, 200);
    assert.equal(response.type, 'application/pkix-crl');
    const crl = files.write('empty.crl', response.body);
    const text = openssl(['crl', '-inform', 'DER', '-in', crl, '-noout', '-text', '-CAfile', issuing]);
    assert.match(text.stderr + text.stdout, /verify OK/);
    assert.match(text.stdout, /No Revoked Certificates/);
    assert.match(text.stdout, /X509v3 CRL Number/);
  });

  it('after DELETE …/certificates/:kid, openssl ocsp reports revoked and the CRL lists the serial', async () => {
    const heard: string[] = [];
    const unlisten = await directory.platform.store.listen(revocationChannel, (payload) =>
      heard.push(payload),
    );
    const revoke = await call(
      participant,
      `${softwareUrl}/certificates/${answer.certificates.signing.kid}?reason=keyCompromise`,
      {
        method: 'DELETE',
      },
    );
    assert.equal(revoke.status, 200, revoke.text);
    assert.equal((revoke.body as { status: string }).status, 'revoked');
    assert.equal((revoke.body as { revocationReason: string }).revocationReason, 'keyCompromise');
    for (let wait = 0; heard.length === 0 && wait < 100; wait++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    await unlisten();
    assert.equal(heard.length, 1, 'the revocation was announced on the NOTIFY channel');
    assert.equal(
      (JSON.parse(heard[0]!) as { serialNumber: string }).serialNumber,
      answer.certificates.signing.serialNumber,
    );

    const result = await ocsp(signing);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr + result.stdout, /Response verify OK/);
    assert.match(result.stdout, /: revoked/);
    assert.match(result.stdout, /Reason: keyCompromise/);
    // The transport certificate of the same software is still good.
    assert.match((await ocsp(transport)).stdout, /: good/);

    const crl = await crlFile();
    const text = openssl(['crl', '-inform', 'DER', '-in', crl, '-noout', '-text']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(
      text.stdout,
      new RegExp(`Serial Number: 0*${answer.certificates.signing.serialNumber}`, 'i'),
    );
    assert.match(text.stdout, /Key Compromise/);
    assert.doesNotMatch(
      text.stdout,
      new RegExp(`Serial Number: 0*${answer.certificates.transport.serialNumber}`, 'i'),
    );
    const verified = openssl(['crl', '-inform', 'DER', '-in', crl, '-noout', '-CAfile', issuing]);
    assert.match(verified.stderr + verified.stdout, /verify OK/);

    // openssl verify with CRL checking now refuses the signing certificate and accepts the transport one.
    const crlPem = files.write('crl.pem', openssl(['crl', '-inform', 'DER', '-in', crl]).stdout);
    const refused = openssl([
      'verify',
      '-crl_check',
      '-CAfile',
      root,
      '-untrusted',
      issuing,
      '-CRLfile',
      crlPem,
      signing,
    ]);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stdout + refused.stderr, /certificate revoked/);
    const accepted = openssl([
      'verify',
      '-crl_check',
      '-CAfile',
      root,
      '-untrusted',
      issuing,
      '-CRLfile',
      crlPem,
      transport,
    ]);
    assert.equal(accepted.status, 0, accepted.stdout + accepted.stderr);
  });

  it('moves the revoked key from the software JWKS to the revoked JWKS', async () => {
    const active = (await call(directory.browser, answer.jwksUris.software)).body as {
      keys: { kid: string }[];
    };
    assert.deepEqual(
      active.keys.map((key) => key.kid).sort(),
      [answer.certificates.transport.kid, answer.certificates.encryption!.kid].sort(),
    );
    const revoked = (await call(directory.browser, `${answer.jwksUris.software}/revoked`)).body as {
      keys: { kid: string; revoked_at: number; revocation_reason: string }[];
    };
    assert.deepEqual(
      revoked.keys.map((key) => key.kid),
      [answer.certificates.signing.kid],
    );
    assert.equal(revoked.keys[0]!.revocation_reason, 'keyCompromise');
    const orgRevoked = (await call(directory.browser, `${answer.jwksUris.organisation}/revoked`)).body as {
      keys: { kid: string }[];
    };
    assert.deepEqual(
      orgRevoked.keys.map((key) => key.kid),
      [answer.certificates.signing.kid],
    );
  });

  it('answers an OCSP GET request (RFC 6960 A.1) the same way', async () => {
    const request = files.write('request.der', '');
    const made = openssl(['ocsp', '-issuer', issuing, '-cert', signing, '-reqout', request, '-no_nonce']);
    assert.equal(made.status, 0, made.stderr);
    const encoded = encodeURIComponent(readFileSync(request).toString('base64'));
    const response = await binary(`${directory.base}/ocsp/${encoded}`);
    assert.equal(response.status, 200);
    assert.equal(response.type, 'application/ocsp-response');
    const der = files.write('get-response.der', response.body);
    const parsed = openssl(['ocsp', '-respin', der, '-CAfile', root, '-issuer', issuing, '-cert', signing]);
    assert.match(parsed.stderr + parsed.stdout, /Response verify OK/);
    assert.match(parsed.stdout, /: revoked/);
  });

  it('refuses to revoke a key twice (409) and answers an unknown key with 404', async () => {
    const again = await call(participant, `${softwareUrl}/certificates/${answer.certificates.signing.kid}`, {
      method: 'DELETE',
    });
    assert.equal(again.status, 409);
    const unknown = await call(participant, `${softwareUrl}/certificates/nope`, { method: 'DELETE' });
    assert.equal(unknown.status, 404);
    const badReason = await call(
      participant,
      `${softwareUrl}/certificates/${answer.certificates.encryption!.kid}?reason=boredom`,
      {
        method: 'DELETE',
      },
    );
    assert.equal(badReason.status, 400);
    assert.match(
      (badReason.body as { error_description: string }).error_description,
      /reason must be one of/,
    );
  });

  it('answers a malformed OCSP request with an OCSP malformedRequest, not an HTTP error', async () => {
    const response = await binary(`${directory.base}/ocsp`, {
      method: 'POST',
      headers: { 'content-type': 'application/ocsp-request' },
      body: 'not der',
    });
    assert.equal(response.status, 200);
    const der = files.write('bad-response.der', response.body);
    assert.match(openssl(['ocsp', '-respin', der, '-resp_text', '-noverify']).stdout, /malformedrequest/i);
  });

  async function crlFile(): Promise<string> {
    return files.write('crl.der', (await binary(`${directory.base}/crl`)).body);
  }

  async function binary(
    url: string,
    init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string } = {},
  ): Promise<{ status: number; type: string; body: Buffer }> {
    const response = await request(url, { dispatcher: directory.browser, ...init });
    return {
      status: response.statusCode,
      type: String(response.headers['content-type']),
      body: Buffer.from(await response.body.arrayBuffer()),
    };
  }
});
