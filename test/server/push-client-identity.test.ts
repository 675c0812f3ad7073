import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, describe, it } from 'node:test';
import { request } from 'undici';
import { outboundAgent } from '../../src/auth/outbound-fetch.ts';
import {
  exportPrivateKeyPem,
  generateRsaKeyPair,
  loadOrCreateSandboxAuthorities,
  x509,
} from '../../src/pki/index.ts';
import { signCertificate } from '../../src/pki/issue.ts';
import { buildName } from '../../src/pki/name.ts';
import { loadConfig } from '../../src/server/config.ts';
import { loadServerTls } from '../../src/server/tls-material.ts';

describe("event push presents the bank's transport certificate to a receiver demanding one", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'obkit-push-identity-'));
  after(() => rm(dataDir, { recursive: true, force: true }));
  const tls = await loadServerTls(loadConfig({ env: { OBKIT_DATA_DIR: dataDir } }));

  // A TPP receiver that demands a client certificate chaining to the sandbox CA, and records whose it was.
  const subjects: string[] = [];
  const receiver: Server = createServer(
    { key: tls.key, cert: tls.cert, ca: tls.ca, requestCert: true, rejectUnauthorized: true },
    (incoming, response) => {
      subjects.push(String((incoming.socket as TLSSocket).getPeerCertificate().subject.CN));
      response.writeHead(202).end();
    },
  );
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  after(() => new Promise<void>((done) => receiver.close(() => done())));
  const url = `https://localhost:${(receiver.address() as AddressInfo).port}/tpp/event-notifications`;

  it("the sandbox's certificate allows clientAuth and is the push identity", () => {
    assert.ok(tls.clientIdentity, 'the sandbox bank has a TLS client identity');
    assert.equal(tls.clientIdentity.cert, tls.cert);
  });

  it('the receiver gets the bank certificate as the peer and accepts the push', async () => {
    const agent = outboundAgent({ ca: tls.ca, allowPrivateAddresses: true, identity: tls.clientIdentity });
    after(() => agent.close());
    const response = await request(url, { method: 'POST', dispatcher: agent, body: 'x' });
    await response.body.dump();
    assert.equal(response.statusCode, 202);
    const expected = new X509Certificate(tls.clientIdentity!.cert).subject.match(/CN=([^\n]+)/)?.[1];
    assert.ok(expected);
    assert.deepEqual(subjects, [expected]);
  });

  it('without the identity the receiver refuses the connection', async () => {
    const agent = outboundAgent({ ca: tls.ca, allowPrivateAddresses: true });
    after(() => agent.close());
    await assert.rejects(request(url, { method: 'POST', dispatcher: agent, body: 'x' }));
    assert.equal(subjects.length, 1, 'nothing reached the handler');
  });
});

describe('a sandbox server certificate kept from before (serverAuth only)', () => {
  it('is reissued with clientAuth, so push has an identity', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'obkit-push-identity-old-'));
    after(() => rm(dataDir, { recursive: true, force: true }));
    const pki = join(dataDir, 'pki');
    await mkdir(pki, { recursive: true });
    const authorities = await loadOrCreateSandboxAuthorities(pki);
    const keys = await generateRsaKeyPair();
    const old = await signCertificate(authorities.issuing, {
      subject: buildName([['CN', 'localhost']]),
      publicKey: keys.publicKey,
      validityDays: 397,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([
          { type: 'dns', value: 'localhost' },
          { type: 'ip', value: '127.0.0.1' },
          { type: 'ip', value: '::1' },
        ]),
      ],
    });
    const oldPem = `${old.toString('pem')}\n${authorities.issuing.chainPem.trim()}\n`;
    await writeFile(join(pki, 'server.pem'), oldPem, { mode: 0o600 });
    await writeFile(join(pki, 'server.key.pem'), await exportPrivateKeyPem(keys.privateKey), { mode: 0o600 });

    const tls = await loadServerTls(loadConfig({ env: { OBKIT_DATA_DIR: dataDir } }));
    assert.notEqual(new X509Certificate(tls.cert).serialNumber, new X509Certificate(oldPem).serialNumber);
    assert.ok(tls.clientIdentity);
    // Kept as it is now: the next start takes it.
    const again = await loadServerTls(loadConfig({ env: { OBKIT_DATA_DIR: dataDir } }));
    assert.equal(again.cert, tls.cert);
  });
});
