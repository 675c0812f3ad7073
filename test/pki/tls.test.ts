import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { connect, createServer, type Server, type TLSSocket } from 'node:tls';
import { isIP, type AddressInfo } from 'node:net';
import {
  issueClientCertificate,
  issueServerCertificate,
  loadOrCreateSandboxAuthorities,
  type SandboxAuthorities,
} from '../../src/pki/index.ts';
import { temporaryDirectory } from './helpers.ts';

describe('sandbox authorities and TLS certificates', () => {
  let dir: string;
  let authorities: SandboxAuthorities;

  before(async () => {
    dir = join(await temporaryDirectory(), 'ca');
    authorities = await loadOrCreateSandboxAuthorities(dir);
  });

  it('persists the hierarchy with private keys 0600 in a 0700 directory, and reuses it', async () => {
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    const names = (await readdir(dir)).sort();
    assert.deepEqual(names, ['issuing-ca.key.pem', 'issuing-ca.pem', 'root-ca.key.pem', 'root-ca.pem']);
    for (const name of names.filter((n) => n.endsWith('.key.pem'))) {
      assert.equal((await stat(join(dir, name))).mode & 0o777, 0o600, name);
      assert.match(await readFile(join(dir, name), 'utf8'), /-----BEGIN PRIVATE KEY-----/);
    }
    const again = await loadOrCreateSandboxAuthorities(dir);
    assert.equal(again.root.certificate.serialNumber, authorities.root.certificate.serialNumber);
    assert.equal(again.issuing.certificate.serialNumber, authorities.issuing.certificate.serialNumber);
    assert.equal(again.chainPem, authorities.chainPem);
  });

  it('makes an RSA root and issuing CA, the issuing CA signed by the root', async () => {
    const { root, issuing } = authorities;
    assert.equal(root.certificate.subject, root.certificate.issuer);
    assert.equal(issuing.certificate.issuer, root.certificate.subject);
    assert.ok(
      await issuing.certificate.verify({ publicKey: root.certificate.publicKey, signatureOnly: true }),
    );
    const modulus = (root.certificate.publicKey.algorithm as { modulusLength?: number }).modulusLength;
    assert.ok(modulus !== undefined && modulus >= 2048, `root modulus ${modulus}`);
    assert.equal(authorities.chainPem.match(/BEGIN CERTIFICATE/g)?.length, 2);
    assert.equal(authorities.trustAnchorsPem.match(/BEGIN CERTIFICATE/g)?.length, 1);
  });

  it('lets node TLS complete a mutual handshake with a server and client certificate issued here', async () => {
    const server = await issueServerCertificate(authorities.issuing, {
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1', '::1'],
    });
    const client = await issueClientCertificate(authorities.issuing, {
      commonName: 'test-client',
      organizationalUnit: 'org-1',
      organizationName: 'Test TPP',
    });
    const listener: Server = createServer({
      key: server.privateKeyPem,
      cert: server.certificatePem,
      ca: server.chainPem,
      requestCert: true,
      rejectUnauthorized: true,
    });
    const seen = new Promise<string>((resolve) =>
      listener.on('secureConnection', (socket: TLSSocket) => {
        resolve(`${socket.authorized} ${socket.getPeerX509Certificate()?.subject ?? 'none'}`);
        socket.end('hello');
      }),
    );
    await new Promise<void>((resolve) => listener.listen(0, '::', resolve));
    try {
      const { port } = listener.address() as AddressInfo;
      // The client trusts only the root: the server must present the issuing CA, and the
      // certificate must name both the DNS name and the IP address it was issued for.
      for (const host of ['localhost', '127.0.0.1']) {
        const reply = await handshake({
          host,
          port,
          key: client.privateKeyPem,
          cert: client.certificatePem,
          ca: authorities.trustAnchorsPem,
        });
        assert.equal(reply, 'hello', host);
      }
      // ::1 is in the certificate too (node's own name check compares IPv6 text forms, so ask X509Certificate).
      assert.equal(new X509Certificate(server.certificatePem).checkIP('::1'), '::1');
      assert.match(await seen, /^true .*CN=test-client/s);
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
  });

  it('refuses server certificate requests without names or with invalid ones', async () => {
    await assert.rejects(
      issueServerCertificate(authorities.issuing, { dnsNames: [], ipAddresses: [] }),
      /needs at least one DNS name or IP address/,
    );
    await assert.rejects(
      issueServerCertificate(authorities.issuing, { dnsNames: ['bad host'], ipAddresses: [] }),
      /"bad host" is not a valid DNS name/,
    );
    await assert.rejects(
      issueServerCertificate(authorities.issuing, { dnsNames: [], ipAddresses: ['300.1.1.1'] }),
      /"300.1.1.1" is not an IPv4 or IPv6 address/,
    );
  });

  it('does not authorise a client certificate from another CA', async () => {
    const other = await loadOrCreateSandboxAuthorities(join(dir, '..', 'other-ca'));
    const server = await issueServerCertificate(authorities.issuing, {
      dnsNames: ['localhost'],
      ipAddresses: [],
    });
    const stranger = await issueClientCertificate(other.issuing, { commonName: 'stranger' });
    // rejectUnauthorized: false lets us read the server's verdict (node drops the socket silently otherwise).
    const listener = createServer({
      key: server.privateKeyPem,
      cert: server.certificatePem,
      ca: server.chainPem,
      requestCert: true,
      rejectUnauthorized: false,
    });
    const verdict = new Promise<{ authorized: boolean; error: string }>((resolve) =>
      listener.on('secureConnection', (socket: TLSSocket) => {
        resolve({ authorized: socket.authorized, error: String(socket.authorizationError) });
        socket.end('hello');
      }),
    );
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = listener.address() as AddressInfo;
      await handshake({
        host: 'localhost',
        port,
        key: stranger.privateKeyPem,
        cert: stranger.fullChainPem,
        ca: authorities.trustAnchorsPem,
      });
      const { authorized, error } = await verdict;
      assert.equal(authorized, false);
      assert.match(error, /ISSUER|SELF_SIGNED/);
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
  });
});

function handshake(options: {
  host: string;
  port: number;
  key: string;
  cert: string;
  ca: string;
}): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const socket = connect({
      host: options.host,
      port: options.port,
      servername: isIP(options.host) === 0 ? options.host : undefined,
      key: options.key,
      cert: options.cert,
      ca: options.ca,
    });
    let data = '';
    socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
}
