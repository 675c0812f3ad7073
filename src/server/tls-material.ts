import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { issueServerCertificate, loadOrCreateSandboxAuthorities } from '../pki/index.ts';
import type { Config } from './config.ts';
import type { TlsMaterial } from './surface.ts';

export interface ServerTls extends TlsMaterial {
  trustAnchors: X509Certificate[];
  /** Where the sandbox keeps its CA; undefined when certificates come from configured files. */
  sandboxPkiDir: string | undefined;
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
 * Sandbox: the sandbox CA (created on first run, reused after) issues this start's server certificate
 * for the public host name, and is itself the trust anchor for client certificates.
 */
export async function loadServerTls(config: Config): Promise<ServerTls> {
  const configuredAnchors = readCertificateFiles(config.trustAnchorFiles);
  if (config.tlsCertFile && config.tlsKeyFile) {
    if (configuredAnchors.length === 0) {
      throw new Error(
        'OBKIT_TRUST_ANCHOR_FILES must name the CA certificates that client certificates chain to',
      );
    }
    return {
      cert: readFileSync(config.tlsCertFile, 'utf8'),
      key: readFileSync(config.tlsKeyFile, 'utf8'),
      ca: configuredAnchors,
      trustAnchors: configuredAnchors.map((pem) => new X509Certificate(pem)),
      sandboxPkiDir: undefined,
    };
  }
  const sandboxPkiDir = join(config.dataDir, 'pki');
  const authorities = await loadOrCreateSandboxAuthorities(sandboxPkiDir);
  const server = await issueServerCertificate(authorities.issuing, {
    dnsNames: [...new Set([config.publicHost, 'localhost'])],
    ipAddresses: ['127.0.0.1', '::1'],
  });
  const anchors = [...splitPemCertificates(authorities.chainPem), ...configuredAnchors];
  return {
    cert: `${server.certificatePem.trim()}\n${server.chainPem.trim()}\n`,
    key: server.privateKeyPem,
    ca: anchors,
    trustAnchors: anchors.map((pem) => new X509Certificate(pem)),
    sandboxPkiDir,
  };
}
