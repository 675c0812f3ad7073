import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { issueServerCertificate, loadOrCreateSandboxAuthorities } from '../pki/index.ts';
import type { Config } from './config.ts';
import type { TlsMaterial } from './surface.ts';

export interface ServerTls extends TlsMaterial {
  trustAnchors: X509Certificate[];
  /** Where the sandbox keeps its CA; undefined when certificates come from configured files. */
  sandboxPkiDir: string | undefined;
  /**
   * The bank's TLS client identity when it calls a TPP (event push): its server certificate and key, when
   * the certificate's extended key usage allows clientAuth; undefined otherwise (then no client certificate
   * is presented, and a TPP demanding one refuses the call).
   */
  clientIdentity: { cert: string; key: string } | undefined;
}

/** id-kp-clientAuth (RFC 5280 §4.2.1.12). */
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/** Whether a certificate may authenticate a TLS client: no extended key usage, or one naming clientAuth. */
export function allowsClientAuth(certificatePem: string): boolean {
  const usages = new X509Certificate(certificatePem).keyUsage as string[] | undefined;
  return usages === undefined || usages.includes(CLIENT_AUTH);
}

function clientIdentityOf(cert: string, key: string): ServerTls['clientIdentity'] {
  return allowsClientAuth(cert) ? { cert, key } : undefined;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export function splitPemCertificates(text: string): string[] {
  return text.match(PEM_CERTIFICATE) ?? [];
}

/** Every PEM certificate in the given files (trust anchors, intermediates, extra CAs), in order. */
export function readCertificateFiles(files: readonly string[]): string[] {
  return files.flatMap((file) => splitPemCertificates(readFileSync(file, 'utf8')));
}

/**
 * Production: server certificate, key and client trust anchors from the configured PEM files.
 * Sandbox: the sandbox CA (created on first run, reused after) issues the server certificate for the
 * public host name, kept in `pki/` for the next starts while it holds, and is itself the trust anchor
 * for client certificates.
 */
export async function loadServerTls(config: Config): Promise<ServerTls> {
  const configuredAnchors = readCertificateFiles(config.trustAnchorFiles);
  if (config.tlsCertFile && config.tlsKeyFile) {
    if (configuredAnchors.length === 0) {
      throw new Error(
        'OBKIT_TRUST_ANCHOR_FILES must name the CA certificates that client certificates chain to',
      );
    }
    const cert = readFileSync(config.tlsCertFile, 'utf8');
    const key = readFileSync(config.tlsKeyFile, 'utf8');
    return {
      cert,
      key,
      ca: configuredAnchors,
      trustAnchors: configuredAnchors.map((pem) => new X509Certificate(pem)),
      sandboxPkiDir: undefined,
      clientIdentity: clientIdentityOf(cert, key),
    };
  }
  const sandboxPkiDir = join(config.dataDir, 'pki');
  const authorities = await loadOrCreateSandboxAuthorities(sandboxPkiDir);
  const names = {
    dnsNames: [...new Set([config.publicHost, 'localhost'])],
    ipAddresses: ['127.0.0.1', '::1'],
  };
  const server =
    kept(sandboxPkiDir, authorities.issuing.certificatePem, names) ??
    (await issueAndKeep(sandboxPkiDir, authorities.issuing, names));
  const anchors = [...splitPemCertificates(authorities.chainPem), ...configuredAnchors];
  return {
    cert: server.cert,
    key: server.key,
    ca: anchors,
    trustAnchors: anchors.map((pem) => new X509Certificate(pem)),
    sandboxPkiDir,
    clientIdentity: clientIdentityOf(server.cert, server.key),
  };
}

const SERVER_CERTIFICATE = 'server.pem';
const SERVER_KEY = 'server.key.pem';
/** A kept server certificate is reissued this long before it expires. */
const RENEW_BEFORE_MS = 30 * 24 * 60 * 60 * 1000;

interface ServerNames {
  dnsNames: string[];
  ipAddresses: string[];
}

/**
 * The sandbox server certificate kept from an earlier start (`pki/server.pem`, key mode 0600), when the
 * current issuing CA signed it, it names every host, holds for another 30 days, matches its key and allows
 * clientAuth (one kept by an older version, serverAuth only, is reissued: it is the bank's push identity too).
 */
function kept(
  dir: string,
  issuingPem: string,
  names: ServerNames,
): { cert: string; key: string } | undefined {
  try {
    const cert = readFileSync(join(dir, SERVER_CERTIFICATE), 'utf8');
    const key = readFileSync(join(dir, SERVER_KEY), 'utf8');
    const leaf = new X509Certificate(cert);
    const issuing = new X509Certificate(issuingPem);
    const san = (leaf.subjectAltName ?? '').split(', ');
    const named =
      names.dnsNames.every((name) => san.includes(`DNS:${name}`)) &&
      names.ipAddresses.every((ip) =>
        san.some((entry) => entry.startsWith('IP Address:') && sameIp(entry.slice(11), ip)),
      );
    const fresh = new Date(leaf.validTo).getTime() - Date.now() > RENEW_BEFORE_MS;
    const ours = leaf.checkIssued(issuing) && leaf.verify(issuing.publicKey);
    const client = allowsClientAuth(cert);
    return named && fresh && ours && client && leaf.checkPrivateKey(createPrivateKey(key))
      ? { cert, key }
      : undefined;
  } catch {
    return undefined;
  }
}

function sameIp(a: string, b: string): boolean {
  const normal = (ip: string) => (ip.includes(':') ? new URL(`http://[${ip}]`).hostname : ip);
  return normal(a) === normal(b);
}

/** Issues this host's server certificate and keeps it (written aside, then renamed into place). */
async function issueAndKeep(
  dir: string,
  issuing: Parameters<typeof issueServerCertificate>[0],
  names: ServerNames,
): Promise<{ cert: string; key: string }> {
  const server = await issueServerCertificate(issuing, names);
  const cert = `${server.certificatePem.trim()}\n${server.chainPem.trim()}\n`;
  for (const [name, text] of [
    [SERVER_KEY, server.privateKeyPem],
    [SERVER_CERTIFICATE, cert],
  ] as const) {
    const draft = join(dir, `${name}.${process.pid}`);
    writeFileSync(draft, text, { mode: 0o600 });
    renameSync(draft, join(dir, name));
  }
  return { cert, key: server.privateKeyPem };
}
