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
import { generateKeyPair } from 'jose';
import { callbackAgents } from '../../src/auth/index.ts';
import { outboundAgent } from '../../src/auth/outbound-fetch.ts';
import {
  createSubscription,
  EVENT_TYPES,
  getEvent,
  pushDeliveriesOf,
  raiseEvent,
} from '../../src/events/index.ts';
import { DEFAULT_PUSH_POLICY, deliverDueEvents } from '../../src/openbanking/events/index.ts';
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
import { ManualClock } from '../../src/shared/clock.ts';
import { createTestStore } from '../support/store.ts';

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

describe('the push deliverer to a receiver demanding a client certificate', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'obkit-push-deliverer-'));
  after(() => rm(dataDir, { recursive: true, force: true }));
  const tls = await loadServerTls(loadConfig({ env: { OBKIT_DATA_DIR: dataDir } }));
  const store = await createTestStore();
  const db = store.db;
  const clock = new ManualClock(new Date().toISOString());

  // The TPP's receiver: only a client certificate chaining to the sandbox CA gets a TLS session at all.
  const received: { peerFingerprint: string; path: string | undefined; body: string }[] = [];
  const receiver: Server = createServer(
    { key: tls.key, cert: tls.cert, ca: tls.ca, requestCert: true, rejectUnauthorized: true },
    (incoming, response) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        received.push({
          peerFingerprint: (incoming.socket as TLSSocket).getPeerCertificate().fingerprint256,
          path: incoming.url,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        response.writeHead(202).end();
      });
    },
  );
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  after(() => new Promise<void>((done) => receiver.close(() => done())));
  const callbackUrl = `https://localhost:${(receiver.address() as AddressInfo).port}/tpp`;

  it("deliverDueEvents pushes the event once, over mutual TLS with the bank's transport certificate", async () => {
    // The agents the platform composes for push (src/server/parts.ts): the bank's client identity, the
    // participant anchors, the callback's server certificate checked against its host name (it names no
    // participant).
    const agents = callbackAgents({
      ca: tls.ca,
      participantAnchors: tls.trustAnchors,
      allowPrivateAddresses: true,
      identity: tls.clientIdentity,
      ownerOf: async () => undefined,
    });
    after(() => agents.close());
    const { privateKey } = await generateKeyPair('PS256');
    const deps = {
      db,
      clock,
      tokens: {
        db,
        clock,
        signing: { key: privateKey, kid: 'bank-signing' },
        issuer: 'https://bank.example',
        mtlsOrigin: 'https://bank.example',
      },
      dispatcherFor: (clientId: string) => agents.agentFor(clientId),
      policy: DEFAULT_PUSH_POLICY,
    };
    await createSubscription(db, clock, 'tpp-mtls', 'v4.0', {
      version: '4.0',
      callbackUrl,
      eventTypes: undefined,
    });
    await db.transaction((tx) =>
      raiseEvent(tx, clock, {
        clientId: 'tpp-mtls',
        type: EVENT_TYPES.consentAuthorizationRevoked,
        subject: { type: 'account-access-consent', id: 'aac-mtls', version: 'v4.0' },
      }),
    );

    assert.equal(await deliverDueEvents(deps), 1, 'one attempt');
    assert.equal(received.length, 1);
    const [push] = received;
    assert.equal(push?.path, '/tpp/event-notifications');
    const bankCertificate = new X509Certificate(tls.clientIdentity!.cert);
    assert.equal(push?.peerFingerprint, bankCertificate.fingerprint256, "the bank's transport certificate");
    const { jti } = JSON.parse(Buffer.from(push!.body.split('.')[1]!, 'base64url').toString('utf8')) as {
      jti: string;
    };
    assert.ok((await getEvent(db, jti))?.deliveredAt, 'delivered on the 202');
    assert.deepEqual(
      (await pushDeliveriesOf(db, jti)).map((entry) => [entry.attempt, entry.status]),
      [[1, 202]],
    );
    // Nothing is due any more: a second pass attempts nothing, and the receiver got the event once.
    assert.equal(await deliverDueEvents(deps), 0);
    assert.equal(received.length, 1);
  });
});
