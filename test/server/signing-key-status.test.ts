import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadOrCreateSandboxAuthorities } from '../../src/pki/index.ts';
import type { CertificateStatus, CertificateStatusGate } from '../../src/server/certificate-status.ts';
import { signingKeyStatusOf } from '../../src/server/signing-key-status.ts';
import type { ClientCertificate } from '../../src/shared/client-certificate.ts';

/**
 * How a signing key's status is read: what its JWKS says first, then the certificate-status gate about its
 * `x5c` certificate (the gate here answers as told, and records what it was asked).
 */

function gateAnswering(status: CertificateStatus) {
  const asked: ClientCertificate[] = [];
  const gate: CertificateStatusGate = {
    check: async (certificate) => {
      asked.push(certificate);
      return status;
    },
    forgetSerial: () => undefined,
    answerLocally: () => undefined,
  };
  return { gate, asked };
}

describe('signing key status', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'obkit-key-status-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const authorities = await loadOrCreateSandboxAuthorities(join(dir, 'pki'));
  const certificate = new X509Certificate(authorities.issuing.certificatePem);
  const x5c = [certificate.raw.toString('base64')];

  it('refuses a key its JWKS marks revoked, without asking the gate', async () => {
    const { gate, asked } = gateAnswering({ accepted: true });
    const status = signingKeyStatusOf(gate);
    assert.match((await status.refusalOf({ kid: 'a', x5c, revoked_at: 1 })) ?? '', /a is marked revoked/);
    assert.match(
      (await status.refusalOf({ kid: 'b', revoked: { revoked_reason: 'keyCompromise' } })) ?? '',
      /b is marked revoked/,
    );
    assert.equal(asked.length, 0);
  });

  it("asks the gate about the key's x5c certificate, and refuses what it refuses", async () => {
    const good = gateAnswering({ accepted: true });
    assert.equal(await signingKeyStatusOf(good.gate).refusalOf({ kid: 'k', x5c }), undefined);
    assert.equal(good.asked[0]?.x509.fingerprint256, certificate.fingerprint256);

    const revoked = gateAnswering({ accepted: false, revoked: true, detail: 'revoked (keyCompromise)' });
    assert.match(
      (await signingKeyStatusOf(revoked.gate).refusalOf({ kid: 'k', x5c })) ?? '',
      /signing key k is revoked: revoked \(keyCompromise\)/,
    );

    const unknown = gateAnswering({ accepted: false, revoked: false, detail: 'no responder answered' });
    assert.match(
      (await signingKeyStatusOf(unknown.gate).refusalOf({ kid: 'k', x5c })) ?? '',
      /signing key k cannot be trusted: no responder answered/,
    );
  });

  it('leaves a key without x5c, or whose certificate no configured CA issued, to its JWKS', async () => {
    const foreign = gateAnswering({
      accepted: false,
      revoked: false,
      detail: 'not ours',
      foreignIssuer: true,
    });
    const status = signingKeyStatusOf(foreign.gate);
    assert.equal(await status.refusalOf({ kid: 'k', x5c }), undefined);
    assert.equal(await status.refusalOf({ kid: 'plain' }), undefined);
    assert.equal(foreign.asked.length, 1);
  });

  it('refuses an x5c that is not a certificate', async () => {
    const { gate } = gateAnswering({ accepted: true });
    assert.match(
      (await signingKeyStatusOf(gate).refusalOf({ kid: 'k', x5c: ['bm90IGEgY2VydGlmaWNhdGU='] })) ?? '',
      /x5c of signing key k is not a certificate/,
    );
  });
});
