/**
 * A TPP as a real one gets there: onboarded in the platform's directory (organisation, software statement,
 * certificates), registered at the bank by DCR, connected over mutual TLS; and a PSU-authorised AIS access
 * token through the real journey (consent, headless sandbox approval, code exchange).
 */
import { join } from 'node:path';
import {
  clientCredentialsToken,
  completeAuthorization,
  startAuthorization,
} from '../../src/tpp/authorization.ts';
import { connectToBank, type BankConnection } from '../../src/tpp/bank.ts';
import { readBundle, type Bundle, type Role } from '../../src/tpp/bundle.ts';
import { createHttpClient } from '../../src/tpp/http.ts';
import { onboard } from '../../src/tpp/onboard.ts';
import { createAccountAccessConsent } from '../../src/tpp/open-banking.ts';
import { registerAtBank } from '../../src/tpp/register.ts';
import { approveInSandbox } from '../../src/tpp/sandbox-approval.ts';
import type { ClientTls } from './load.ts';

export interface BenchTpp {
  bank: BankConnection;
  bundle: Bundle;
  clientId: string;
  /** The transport certificate and key, and the trust anchor: what a load generator connects with. */
  tls: ClientTls;
  redirectUri: string;
}

/** Where a TPP onboards and registers: a bench platform, or a cluster behind nginx (its browser URL). */
export interface TppHost {
  platform: { urls: { browser: string } };
  /** Where the TPP's bundle (keys, certificates) is written. */
  dataDir: string;
  /** The sandbox root CA (PEM) the TPP trusts. */
  rootPem: string;
}

export async function onboardTpp(bench: TppHost, name: string, roles: Role[]): Promise<BenchTpp> {
  const discoveryUrl = `${bench.platform.urls.browser}/.well-known/openid-configuration`;
  const redirectUri = `https://${name}.example/callback`;
  const bundleDir = join(bench.dataDir, `tpp-${name}`);
  await onboard({
    directoryUrl: bench.platform.urls.browser,
    organisationName: name,
    clientName: name,
    roles,
    redirectUris: [redirectUri],
    certificateProfile: 'obie',
    outDir: bundleDir,
    trust: [bench.rootPem],
  });
  const registration = await registerAtBank(readBundle(bundleDir), { discoveryUrl, trust: [bench.rootPem] });
  const bundle = readBundle(bundleDir);
  const bank = await connectToBank(bundle, {
    discoveryUrl,
    trust: [bench.rootPem],
    clientId: registration.clientId,
  });
  return {
    bank,
    bundle,
    clientId: registration.clientId,
    tls: { cert: bundle.transportCertificatePem, key: bundle.transportKeyPem, ca: [bench.rootPem] },
    redirectUri,
  };
}

/** An access token for every account of the sandbox customer `username`, all permissions, approved by them. */
export async function aisAccessToken(tpp: BenchTpp, username: string): Promise<string> {
  const clientToken = (await clientCredentialsToken(tpp.bank, 'accounts')).access_token;
  const consent = await createAccountAccessConsent(tpp.bank, clientToken);
  const pending = await startAuthorization(tpp.bank, {
    intentId: consent.ConsentId,
    scope: 'accounts',
    redirectUri: tpp.redirectUri,
  });
  const browser = createHttpClient({ trust: tpp.tls.ca });
  try {
    const back = await approveInSandbox(browser, pending.url, tpp.redirectUri, {
      username,
      decision: 'approve',
    });
    return (await completeAuthorization(tpp.bank, pending, back)).access_token;
  } finally {
    await browser.close();
  }
}
