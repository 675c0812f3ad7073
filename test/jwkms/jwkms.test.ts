import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { issueClientCertificate, loadOrCreateSandboxAuthorities } from '../../src/pki/index.ts';
import { selectParts } from '../../src/server/parts.ts';
import { readBundle, type Bundle } from '../../src/tpp/bundle.ts';
import { onboard } from '../../src/tpp/onboard.ts';
import { call, httpsClient, startTestPlatform } from '../support/platform.ts';

describe('JWKms', async () => {
  const platform = await startTestPlatform({ parts: selectParts(['directory', 'jwkms']) });
  const rootPem = readFileSync(join(platform.dataDir, 'pki', 'root-ca.pem'), 'utf8');
  const work = mkdtempSync(join(tmpdir(), 'obkit-jwkms-'));

  async function onboarded(name: string): Promise<Bundle> {
    const outDir = join(work, name);
    await onboard({
      directoryUrl: platform.urls.browser,
      organisationName: name,
      clientName: name,
      roles: ['AISP', 'PISP'],
      redirectUris: [`https://${name}.example/cb`],
      certificateProfile: 'obie',
      outDir,
      trust: [rootPem],
    });
    return readBundle(outDir);
  }
  const alice = await onboarded('alice-tpp');
  const bob = await onboarded('bob-tpp');
  const as = (bundle: Bundle) =>
    httpsClient([rootPem], {
      certificatePem: bundle.transportCertificatePem,
      privateKeyPem: bundle.transportKeyPem,
    });
  const aliceClient = as(alice);
  const bobClient = as(bob);
  const jwkms = `${platform.urls.mtls}/jwkms/v1`;
  const post = (client: ReturnType<typeof as>, path: string, body: unknown) =>
    call(client, `${jwkms}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const softwareJwks = async (bundle: Bundle, which = '') =>
    (await call(httpsClient([rootPem]), `${bundle.summary.software.jwksUri}${which}`)).body as JSONWebKeySet;

  it('creates managed keys on first use and publishes them in the software JWKS', async () => {
    const keys = await call(aliceClient, `${jwkms}/keys`);
    assert.equal(keys.status, 200, keys.text);
    const { signing, encryption, jwksUri } = keys.body as {
      signing: { kid: string };
      encryption: { kid: string };
      jwksUri: string;
    };
    assert.equal(jwksUri, alice.summary.software.jwksUri);
    const published = await softwareJwks(alice);
    const kids = published.keys.map((key) => key.kid);
    assert.ok(kids.includes(signing.kid) && kids.includes(encryption.kid), `${kids.join(', ')}`);
  });

  it('signs claims that verify against the published JWKS', async () => {
    const signed = await post(aliceClient, '/sign', { claims: { hello: 'world' }, expiresIn: 300 });
    assert.equal(signed.status, 200, signed.text);
    const { jwt } = signed.body as { jwt: string };
    const { payload, protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(await softwareJwks(alice)), {
      algorithms: ['PS256'],
    });
    assert.equal(payload.hello, 'world');
    assert.equal(payload.iss, alice.summary.software.id);
    assert.equal(protectedHeader.alg, 'PS256');
    assert.ok(typeof payload.exp === 'number');
  });

  it('makes an Open Banking detached signature that validates over the exact body, and not over a tampered one', async () => {
    const body = '{"Data":{"Initiation":{"InstructedAmount":{"Amount":"10.00","Currency":"GBP"}}},"Risk":{}}';
    const signed = await post(aliceClient, '/sign-detached', { payload: body });
    assert.equal(signed.status, 200, signed.text);
    const { signature, header } = signed.body as { signature: string; header: Record<string, unknown> };
    assert.match(signature, /^[\w-]+\.\.[\w-]+$/);
    assert.equal(header.b64, undefined);
    assert.deepEqual(header.crit, [
      'http://openbanking.org.uk/iat',
      'http://openbanking.org.uk/iss',
      'http://openbanking.org.uk/tan',
    ]);
    assert.equal(
      header['http://openbanking.org.uk/iss'],
      `${alice.summary.organisation.id}/${alice.summary.software.id}`,
    );

    const key = { jwksUri: alice.summary.software.jwksUri };
    const good = await post(bobClient, '/validate', { jws: signature, key, detachedPayload: body });
    assert.deepEqual((good.body as { valid: boolean }).valid, true, good.text);
    const tampered = await post(bobClient, '/validate', {
      jws: signature,
      key,
      detachedPayload: body.replace('10.00', '99.00'),
    });
    assert.deepEqual(tampered.body, { valid: false, reason: 'the signature does not verify', header });
  });

  it('signs and encrypts for another participant, who decrypts and validates it', async () => {
    // Bob's managed encryption key becomes the newest in his JWKS, the one senders pick.
    assert.equal((await call(bobClient, `${jwkms}/keys`)).status, 200);
    const sealed = await post(aliceClient, '/sign-encrypt', {
      claims: { secret: 42 },
      recipient: { jwksUri: bob.summary.software.jwksUri },
    });
    assert.equal(sealed.status, 200, sealed.text);
    const { jwe } = sealed.body as { jwe: string };
    assert.equal(jwe.split('.').length, 5);

    const opened = await post(bobClient, '/decrypt', {
      jwe,
      validateWith: { jwksUri: alice.summary.software.jwksUri },
    });
    assert.equal(opened.status, 200, opened.text);
    const result = opened.body as { validation: { valid: boolean; claims: { secret: number; iss: string } } };
    assert.equal(result.validation.valid, true);
    assert.equal(result.validation.claims.secret, 42);
    assert.equal(result.validation.claims.iss, alice.summary.software.id);

    const notForAlice = await post(aliceClient, '/decrypt', { jwe });
    assert.equal(notForAlice.status, 400);
    assert.equal((notForAlice.body as { error: string }).error, 'decryption_failed');
  });

  it('rotates keys with an overlap, and reset revokes every managed key', async () => {
    const before = ((await call(aliceClient, `${jwkms}/keys`)).body as { signing: { kid: string } }).signing
      .kid;
    const rotated = await post(aliceClient, '/keys/rotate', {});
    assert.equal(rotated.status, 200, rotated.text);
    const after = ((await call(aliceClient, `${jwkms}/keys`)).body as { signing: { kid: string } }).signing
      .kid;
    assert.notEqual(after, before);
    const listed = (await softwareJwks(alice)).keys.map((key) => key.kid);
    assert.ok(
      listed.includes(before) && listed.includes(after),
      'the old key stays listed during the overlap',
    );

    const reset = await post(aliceClient, '/keys/reset', {});
    assert.equal(reset.status, 200, reset.text);
    const { revoked, created } = reset.body as { revoked: string[]; created: string[] };
    assert.ok(revoked.includes(before) && revoked.includes(after));
    const active = (await softwareJwks(alice)).keys.map((key) => key.kid);
    const revokedList = (await softwareJwks(alice, '/revoked')).keys.map((key) => key.kid);
    assert.ok(!active.includes(before) && !active.includes(after));
    assert.ok(revokedList.includes(before) && revokedList.includes(after));
    assert.ok(created.every((kid) => active.includes(kid)));
  });

  it('reports what the mTLS test saw: trusted participant, untrusted certificate, or none', async () => {
    const trusted = await call(aliceClient, `${jwkms}/mtls-test`);
    assert.equal(trusted.status, 200, trusted.text);
    const report = trusted.body as {
      trusted: boolean;
      participant: { softwareId: string; orgId: string };
      revocation: string;
      issuedByThisDirectory: boolean;
    };
    assert.equal(report.trusted, true);
    assert.equal(report.participant.softwareId, alice.summary.software.id);
    assert.equal(report.participant.orgId, alice.summary.organisation.id);
    assert.equal(report.revocation, 'good');
    assert.equal(report.issuedByThisDirectory, true);

    const foreign = await loadOrCreateSandboxAuthorities(mkdtempSync(join(tmpdir(), 'obkit-foreign-')));
    const stranger = await issueClientCertificate(foreign.issuing, { commonName: 'stranger' });
    const untrusted = await call(
      httpsClient([rootPem], {
        certificatePem: stranger.fullChainPem,
        privateKeyPem: stranger.privateKeyPem,
      }),
      `${jwkms}/mtls-test`,
    );
    const strangerReport = untrusted.body as {
      presented: boolean;
      trusted: boolean;
      reason: string;
      certificate: { subject: string };
    };
    assert.equal(strangerReport.presented, true);
    assert.equal(strangerReport.trusted, false);
    assert.match(strangerReport.certificate.subject, /CN=stranger/);

    const none = await call(httpsClient([rootPem]), `${jwkms}/mtls-test`);
    assert.deepEqual((none.body as { presented: boolean }).presented, false);
  });

  it('refuses callers without a directory transport certificate, and bad bodies, with a clear error', async () => {
    const anonymous = await call(httpsClient([rootPem]), `${jwkms}/sign`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"claims":{}}',
    });
    assert.equal(anonymous.status, 401);
    assert.equal((anonymous.body as { error: string }).error, 'invalid_client_certificate');

    const notObject = await post(aliceClient, '/sign', { claims: 'hello' });
    assert.equal(notObject.status, 400);
    assert.match((notObject.body as { error_description: string }).error_description, /claims/);

    const elsewhere = await post(aliceClient, '/validate', {
      jws: 'a.b.c',
      key: { jwksUri: 'https://evil.example/jwks' },
    });
    assert.equal(elsewhere.status, 400);
    assert.match(
      (elsewhere.body as { error_description: string }).error_description,
      /JWKS of this directory/,
    );

    const two = await post(aliceClient, '/validate', {
      jws: 'a.b.c',
      key: { jwksUri: alice.summary.software.jwksUri, jwk: {} },
    });
    assert.equal(two.status, 400);

    const notJson = await call(aliceClient, `${jwkms}/sign`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{oops',
    });
    assert.equal(notJson.status, 400);
  });
});
