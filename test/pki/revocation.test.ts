import assert from 'node:assert/strict';
import { before, beforeEach, describe, it } from 'node:test';
import { ManualClock } from '../../src/shared/clock.ts';
import {
  RevocationChecker,
  RevocationError,
  answerOcsp,
  generateCrl,
  issueOcspResponderCertificate,
  issueProfileCertificateWithNewKey,
  loadOrCreateSandboxAuthorities,
  normalizeSerial,
  withRevocationEndpoints,
  type CertificateStatus,
  type IssuedKeyAndCertificate,
  type OcspResponderConfig,
  type RevocationFetchers,
  type RevokedCertificateEntry,
} from '../../src/pki/index.ts';
import { acme, pkiFixture, type PkiFixture } from './helpers.ts';

const ocspUrl = 'http://ocsp.directory.test/ocsp';
const crlUrl = 'http://crl.directory.test/issuing.crl';

/** A directory stand-in: a revocation register answered through our OCSP responder and CRL generator. */
class FakeDirectory {
  readonly revoked = new Map<string, RevokedCertificateEntry>();
  ocspDown = false;
  crlDown = false;
  ocspCalls = 0;
  crlCalls = 0;
  crlNumber = 0;
  /** Replaces the OCSP answer bytes (for tampering tests). */
  ocspOverride: ((request: Uint8Array) => Promise<Uint8Array>) | undefined;
  readonly pki: PkiFixture;
  readonly clock: ManualClock;
  readonly responder: OcspResponderConfig;
  constructor(pki: PkiFixture, clock: ManualClock, responder: OcspResponderConfig) {
    this.pki = pki;
    this.clock = clock;
    this.responder = responder;
  }

  revoke(issued: IssuedKeyAndCertificate, reason: RevokedCertificateEntry['reason'] = 'keyCompromise'): void {
    const serialNumber = normalizeSerial(issued.certificate.serialNumber);
    this.revoked.set(serialNumber, { serialNumber, revokedAt: this.clock.now(), reason });
  }

  status(serial: string): CertificateStatus {
    const entry = this.revoked.get(serial);
    return entry
      ? { status: 'revoked', revokedAt: entry.revokedAt, reason: entry.reason }
      : { status: 'good' };
  }

  readonly fetchers: RevocationFetchers = {
    ocsp: async (url, request) => {
      this.ocspCalls++;
      assert.equal(url, ocspUrl);
      if (this.ocspDown) throw new Error('connect ECONNREFUSED');
      if (this.ocspOverride) return this.ocspOverride(request);
      return answerOcsp(request, (serial) => this.status(serial), this.responder);
    },
    crl: async (url) => {
      this.crlCalls++;
      assert.equal(url, crlUrl);
      if (this.crlDown) throw new Error('connect ETIMEDOUT');
      return generateCrl(this.pki.authorities.issuing, [...this.revoked.values()], {
        crlNumber: ++this.crlNumber,
        clock: this.clock,
        validitySeconds: 3600,
      });
    },
  };
}

describe('revocation checker: OCSP first, CRL fallback, cache, fail closed', () => {
  let pki: PkiFixture;
  let clock: ManualClock;
  let directory: FakeDirectory;
  let checker: RevocationChecker;
  let leaf: IssuedKeyAndCertificate;

  before(async () => {
    pki = await pkiFixture();
  });

  beforeEach(async () => {
    clock = new ManualClock(new Date());
    directory = new FakeDirectory(pki, clock, {
      issuer: pki.authorities.issuing,
      clock,
      validitySeconds: 600,
    });
    checker = new RevocationChecker({ fetchers: directory.fetchers, clock });
    leaf = await issueProfileCertificateWithNewKey(
      withRevocationEndpoints(pki.authorities.issuing, { ocspUrl, crlUrl }),
      {
        profile: 'obwac',
        subject: acme,
        clock,
      },
    );
  });

  const issuingPem = (): string => pki.authorities.issuing.certificatePem;

  it('accepts a good certificate on the OCSP answer alone', async () => {
    const verdict = await checker.check(leaf.certificatePem, issuingPem());
    assert.equal(verdict.accepted, true);
    assert.equal(verdict.status, 'good');
    assert.equal(verdict.source, 'ocsp');
    assert.equal(directory.crlCalls, 0);
  });

  it('refuses a revoked certificate (OCSP), with time and reason', async () => {
    directory.revoke(leaf, 'keyCompromise');
    const verdict = await checker.check(leaf.certificatePem, issuingPem());
    assert.equal(verdict.accepted, false);
    assert.equal(verdict.status, 'revoked');
    assert.equal(verdict.source, 'ocsp');
    assert.equal(verdict.reason, 'keyCompromise');
    assert.equal(verdict.revokedAt?.getTime(), Math.floor(clock.now().getTime() / 1000) * 1000);
    await assert.rejects(checker.assertNotRevoked(leaf.certificatePem, issuingPem()), (error: unknown) => {
      assert.ok(error instanceof RevocationError);
      assert.match(error.message, /was revoked on .* \(keyCompromise\) according to its OCSP responder/);
      return true;
    });
  });

  it('uses the CRL when OCSP is down: a revoked certificate is still refused', async () => {
    directory.revoke(leaf);
    directory.ocspDown = true;
    const verdict = await checker.check(leaf.certificatePem, issuingPem());
    assert.equal(verdict.accepted, false);
    assert.equal(verdict.status, 'revoked');
    assert.equal(verdict.source, 'crl');
    assert.match(
      verdict.problems[0] ?? '',
      /^OCSP http:\/\/ocsp\.directory\.test\/ocsp: connect ECONNREFUSED/,
    );
  });

  it('uses the CRL when OCSP is down: a good certificate is accepted from the CRL', async () => {
    directory.ocspDown = true;
    const verdict = await checker.check(leaf.certificatePem, issuingPem());
    assert.deepEqual([verdict.accepted, verdict.status, verdict.source], [true, 'good', 'crl']);
  });

  it('refuses when both OCSP and CRL are down (fail closed), and accepts only if configured to fail open', async () => {
    directory.ocspDown = true;
    directory.crlDown = true;
    const verdict = await checker.check(leaf.certificatePem, issuingPem());
    assert.deepEqual([verdict.accepted, verdict.status, verdict.source], [false, 'unavailable', 'none']);
    assert.equal(verdict.problems.length, 2);
    assert.match(verdict.detail, /refused: fail-closed/);
    await assert.rejects(checker.assertNotRevoked(leaf.certificatePem, issuingPem()), RevocationError);

    const open = new RevocationChecker({ fetchers: directory.fetchers, clock, failOpen: true });
    const lenient = await open.check(leaf.certificatePem, issuingPem());
    assert.deepEqual([lenient.accepted, lenient.status], [true, 'unavailable']);
    assert.match(lenient.detail, /fails open/);
  });

  it('keeps an "unavailable" verdict for a few seconds, then asks again', async () => {
    directory.ocspDown = true;
    directory.crlDown = true;
    assert.equal((await checker.check(leaf.certificatePem, issuingPem())).status, 'unavailable');
    directory.ocspDown = false;
    assert.equal((await checker.check(leaf.certificatePem, issuingPem())).status, 'unavailable', 'kept');
    assert.equal(directory.ocspCalls, 1);
    clock.advance(5001);
    assert.equal((await checker.check(leaf.certificatePem, issuingPem())).status, 'good');
    assert.equal(directory.ocspCalls, 2);
  });

  it('never accepts a revoked certificate even when failing open', async () => {
    directory.revoke(leaf);
    const open = new RevocationChecker({ fetchers: directory.fetchers, clock, failOpen: true });
    assert.equal((await open.check(leaf.certificatePem, issuingPem())).accepted, false);
  });

  it('refuses a certificate that names neither OCSP nor CRL', async () => {
    const bare = await issueProfileCertificateWithNewKey(pki.authorities.issuing, {
      profile: 'obwac',
      subject: acme,
    });
    const verdict = await checker.check(bare.certificatePem, issuingPem());
    assert.equal(verdict.accepted, false);
    assert.match(verdict.detail, /names no OCSP responder and no CRL distribution point/);
  });

  it('caches an OCSP answer until its nextUpdate, then asks again and sees a revocation', async () => {
    assert.equal((await checker.check(leaf.certificatePem, issuingPem())).status, 'good');
    directory.revoke(leaf);
    clock.advance(9 * 60 * 1000);
    assert.equal((await checker.check(leaf.certificatePem, issuingPem())).status, 'good', 'cached');
    assert.equal(directory.ocspCalls, 1);
    clock.advance(2 * 60 * 1000);
    assert.equal((await checker.check(leaf.certificatePem, issuingPem())).status, 'revoked');
    assert.equal(directory.ocspCalls, 2);
  });

  it('caches the CRL until its nextUpdate', async () => {
    directory.ocspDown = true;
    await checker.check(leaf.certificatePem, issuingPem());
    const other = await issueProfileCertificateWithNewKey(
      withRevocationEndpoints(pki.authorities.issuing, { ocspUrl, crlUrl }),
      {
        profile: 'obseal',
        subject: acme,
        clock,
      },
    );
    await checker.check(other.certificatePem, issuingPem());
    assert.equal(directory.crlCalls, 1, 'one CRL download serves both certificates');
    clock.advance(3601 * 1000);
    await checker.check(other.certificatePem, issuingPem());
    assert.equal(directory.crlCalls, 2);
  });

  it('answers concurrent checks of one certificate with one OCSP request', async () => {
    const verdicts = await Promise.all([1, 2, 3].map(() => checker.check(leaf.certificatePem, issuingPem())));
    assert.ok(verdicts.every((verdict) => verdict.status === 'good'));
    assert.equal(directory.ocspCalls, 1);
  });

  it('falls back to the CRL when the OCSP answer is signed by another CA', async () => {
    const stranger = await loadOrCreateSandboxAuthorities(`${pki.dir}/stranger-ca`);
    directory.revoke(leaf);
    directory.ocspOverride = (request) =>
      answerOcsp(request, () => ({ status: 'good' }), {
        issuer: { ...pki.authorities.issuing, privateKey: stranger.issuing.privateKey },
      });
    const verdict = await checker.check(leaf.certificatePem, issuingPem());
    assert.deepEqual([verdict.accepted, verdict.status, verdict.source], [false, 'revoked', 'crl']);
    assert.match(verdict.problems[0] ?? '', /signature does not verify/);
  });

  it('refuses a replayed OCSP answer (nonce of another request)', async () => {
    let captured: Uint8Array | undefined;
    directory.ocspOverride = async (request) => {
      captured ??= await answerOcsp(request, () => ({ status: 'good' }), directory.responder);
      return captured;
    };
    directory.crlDown = true;
    assert.equal((await checker.check(leaf.certificatePem, issuingPem())).status, 'good');
    checker.clearCache();
    const verdict = await checker.check(leaf.certificatePem, issuingPem());
    assert.equal(verdict.accepted, false);
    assert.match(verdict.problems[0] ?? '', /nonce does not match/);
  });

  it('treats an OCSP "unknown" as no answer and uses the CRL', async () => {
    directory.ocspOverride = (request) =>
      answerOcsp(request, () => ({ status: 'unknown' }), directory.responder);
    const verdict = await checker.check(leaf.certificatePem, issuingPem());
    assert.deepEqual([verdict.status, verdict.source], ['good', 'crl']);
    assert.match(verdict.problems[0] ?? '', /does not know the certificate/);
  });

  it('accepts answers from a delegated OCSP responder', async () => {
    const responder = await issueOcspResponderCertificate(pki.authorities.issuing, { clock });
    directory.ocspOverride = (request) =>
      answerOcsp(request, (serial) => directory.status(serial), {
        issuer: pki.authorities.issuing,
        signer: { certificate: responder.certificate, privateKey: responder.privateKey },
        clock,
      });
    directory.revoke(leaf);
    const verdict = await checker.check(leaf.certificatePem, issuingPem());
    assert.deepEqual([verdict.status, verdict.source], ['revoked', 'ocsp']);
  });

  it('refuses a stale CRL (past its nextUpdate) when OCSP is down', async () => {
    directory.ocspDown = true;
    const staleCrl = await generateCrl(pki.authorities.issuing, [], {
      crlNumber: 1,
      clock,
      validitySeconds: 60,
    });
    directory.fetchers.crl = async () => staleCrl;
    clock.advance(60 * 60 * 1000);
    const verdict = await checker.check(leaf.certificatePem, issuingPem());
    assert.equal(verdict.accepted, false);
    assert.match(verdict.problems[1] ?? '', /CRL is stale/);
  });
});
