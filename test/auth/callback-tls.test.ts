import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DetailedPeerCertificate, PeerCertificate } from 'node:tls';
import { after, describe, it } from 'node:test';
import { callbackServerIdentity } from '../../src/auth/index.ts';
import {
  issueProfileCertificateWithNewKey,
  issueServerCertificate,
  loadOrCreateSandboxAuthorities,
  type ParticipantIdentity,
} from '../../src/pki/index.ts';

/**
 * The rule for the server certificate at a TPP's event callback, on the certificates the sandbox directory
 * issues: a participant certificate from the participant CA must name the subscribing software; anything
 * else gets the host name check.
 */
describe("whom the bank accepts at a TPP's event callback", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'obkit-callback-tls-'));
  after(() => rm(dir, { recursive: true, force: true }));
  const authorities = await loadOrCreateSandboxAuthorities(join(dir, 'pki'));
  const anchorPems =
    authorities.chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const anchors = anchorPems.map((pem) => new X509Certificate(pem));

  const acme: ParticipantIdentity = {
    softwareId: 'acme-app',
    orgId: 'acme-org',
    organizationName: 'Acme Ltd',
    organizationIdentifier: 'PSDGB-FCA-acme-org',
  };
  const other: ParticipantIdentity = {
    softwareId: 'other-app',
    orgId: 'other-org',
    organizationName: 'Other Ltd',
    organizationIdentifier: 'PSDGB-FCA-other-org',
  };

  /** What TLS hands `checkServerIdentity`: the leaf, with the chain up to the anchor as its issuers. */
  function peer(leafPem: string): PeerCertificate {
    const leaf = new X509Certificate(leafPem);
    let issuer: DetailedPeerCertificate | undefined;
    for (const anchor of [...anchors].reverse()) {
      const certificate = {
        raw: anchor.raw,
        fingerprint256: anchor.fingerprint256,
      } as DetailedPeerCertificate;
      certificate.issuerCertificate = issuer ?? certificate;
      issuer = certificate;
    }
    return {
      raw: leaf.raw,
      fingerprint256: leaf.fingerprint256,
      subject: {},
      subjectaltname: leaf.subjectAltName ?? '',
      issuerCertificate: issuer,
    } as unknown as PeerCertificate;
  }

  const transport = async (subject: ParticipantIdentity) =>
    (await issueProfileCertificateWithNewKey(authorities.issuing, { profile: 'obwac', subject }))
      .certificatePem;

  it("accepts the subscribing software's own transport certificate, whatever the host", async () => {
    const check = callbackServerIdentity({ orgId: 'acme-org', softwareId: 'acme-app' }, anchors);
    assert.equal(check('tpp.example', peer(await transport(acme))), undefined);
  });

  it("refuses another participant's transport certificate", async () => {
    const check = callbackServerIdentity({ orgId: 'acme-org', softwareId: 'acme-app' }, anchors);
    assert.match(check('tpp.example', peer(await transport(other)))?.message ?? '', /another participant/);
  });

  it('accepts a certificate of another software of the same organisation (the same TPP, as DCR has it)', async () => {
    // The organizationIdentifier names the organisation: DCR accepts such a (QWAC-style) certificate for
    // any software of it, and so does the callback check — it is the same legal TPP.
    const check = callbackServerIdentity({ orgId: 'acme-org', softwareId: 'acme-app' }, anchors);
    const sibling = await transport({ ...acme, softwareId: 'acme-other-app' });
    assert.equal(check('tpp.example', peer(sibling)), undefined);
  });

  it('refuses every participant certificate for a client that is no participant', async () => {
    const check = callbackServerIdentity(undefined, anchors);
    assert.match(check('tpp.example', peer(await transport(acme)))?.message ?? '', /another participant/);
  });

  it('checks the host name of a certificate that names no participant', async () => {
    const server = await issueServerCertificate(authorities.issuing, {
      dnsNames: ['localhost'],
      ipAddresses: [],
    });
    const check = callbackServerIdentity({ orgId: 'acme-org', softwareId: 'acme-app' }, anchors);
    assert.equal(check('localhost', peer(server.certificatePem)), undefined);
    assert.ok(check('tpp.example', peer(server.certificatePem)), 'not issued for tpp.example');
  });

  it('checks the host name of a participant certificate from a CA that is no participant anchor', async () => {
    const check = callbackServerIdentity({ orgId: 'acme-org', softwareId: 'acme-app' }, []);
    assert.ok(check('tpp.example', peer(await transport(acme))), 'it names no host');
  });
});
