import { connectToBank, issuerOf, type BankConnection } from './bank.ts';
import { updateBundleSummary, type BankRegistration, type Bundle } from './bundle.ts';
import type { TokenResponse } from './authorization.ts';
import { TppUsageError } from './errors.ts';
import { authoriseIntent, type AuthorisedBy } from './psu-authorisation.ts';

/**
 * What every PSU journey of the SDK shares (accounts, funds check, payments, VRP, file payments): find
 * the bundle's registration at the bank, connect over mutual TLS, record each consent in bundle.json as
 * it goes, and have the PSU authorise it. A journey is only its own API calls inside `runConsentJourney`.
 */
export interface ConsentJourneyOptions {
  bundle: Bundle;
  /** The bank's discovery URL or issuer; default: the bundle's only registration. */
  bank?: string;
  trust: string[];
  /** How the client authenticates at the token endpoint; default: as registered. */
  authMethod?: 'private_key_jwt' | 'tls_client_auth';
  /** The sandbox PSU who approves headlessly (default alice). */
  psu?: string;
  /** Never try the sandbox's headless approval: always hand the URL to a person. */
  manual?: boolean;
  /** One of the software's redirect URIs; default its first. */
  redirectUri?: string;
  /** Outside the sandbox: show the PSU the URL, resolve with the URL the browser was sent back to. */
  askForRedirect(authorizationUrl: URL): Promise<string>;
  progress?: (line: string) => void;
}

export interface ConsentJourney {
  bank: BankConnection;
  /** The registration's key in bundle.json: the bank's issuer. */
  issuer: string;
  progress: (line: string) => void;
  /** Records a consent the bank has just staged. */
  recordConsent(consentId: string, kind: string, status: string): void;
  /** Records what became of a recorded consent (Authorised, Consumed, …). */
  setConsentStatus(consentId: string, status: string): void;
  /** Has the PSU authorise the staged consent, records it as Authorised, and returns the PSU's token. */
  authorise(
    consentId: string,
    scope: 'accounts' | 'payments' | 'fundsconfirmations',
  ): Promise<{ tokens: TokenResponse; authorisedBy: AuthorisedBy }>;
}

/** The bundle's registration at `bank` (its discovery URL or issuer), or its only one. */
export function findRegistration(bundle: Bundle, bank: string | undefined) {
  const registrations = Object.entries(bundle.summary.registrations);
  if (bank) {
    const issuer = issuerOf(bank).href.replace(/\/$/, '');
    const found = registrations.find(
      ([key, registration]) =>
        key.replace(/\/$/, '') === issuer ||
        issuerOf(registration.discoveryUrl).href.replace(/\/$/, '') === issuer,
    );
    if (!found)
      throw new TppUsageError(
        `the bundle has no registration at ${issuer}; run obkit tpp register --bundle ${bundle.dir} --bank ${bank} first`,
      );
    return { issuer: found[0], registration: found[1] };
  }
  const [only, ...more] = registrations;
  if (!only)
    throw new TppUsageError(
      `the bundle is registered at no bank; run obkit tpp register --bundle ${bundle.dir}`,
    );
  if (more.length > 0)
    throw new TppUsageError(
      `the bundle is registered at several banks (${registrations.map(([key]) => key).join(', ')}); choose one with --bank`,
    );
  return { issuer: only[0], registration: only[1] };
}

/**
 * Connects to the bank the bundle is registered at (over mutual TLS, authenticating as registered unless
 * said), runs `work`, and closes the connection whatever happens.
 */
export async function withRegisteredBank<T>(
  options: Pick<ConsentJourneyOptions, 'bundle' | 'bank' | 'trust' | 'authMethod'>,
  work: (bank: BankConnection, registration: BankRegistration) => Promise<T>,
): Promise<T> {
  const { registration } = findRegistration(options.bundle, options.bank);
  const bank = await connectToBank(options.bundle, {
    discoveryUrl: registration.discoveryUrl,
    trust: options.trust,
    clientId: registration.clientId,
    authMethod: options.authMethod ?? registration.tokenEndpointAuthMethod ?? 'private_key_jwt',
  });
  try {
    return await work(bank, registration);
  } finally {
    await bank.close();
  }
}

/** Connects to the bank, runs the journey, and closes the connection whatever happens. */
export async function runConsentJourney<T>(
  options: ConsentJourneyOptions,
  journey: (context: ConsentJourney) => Promise<T>,
): Promise<T> {
  const progress = options.progress ?? (() => undefined);
  const { bundle } = options;
  const { issuer } = findRegistration(bundle, options.bank);
  const redirectUris = bundle.summary.software.redirectUris;
  const redirectUri = options.redirectUri ?? redirectUris[0];
  if (!redirectUri)
    throw new TppUsageError('the software statement has no redirect URI; give --redirect-uri');
  if (!redirectUris.includes(redirectUri))
    throw new TppUsageError(
      `${redirectUri} is not a redirect URI of the software (${redirectUris.join(', ')})`,
    );

  const setConsentStatus = (consentId: string, status: string) =>
    updateBundleSummary(bundle.dir, (summary) => {
      const record = summary.consents.find((consent) => consent.consentId === consentId);
      if (record) record.status = status;
    });
  return withRegisteredBank(options, (bank) =>
    journey({
      bank,
      issuer,
      progress,
      recordConsent(consentId, kind, status) {
        updateBundleSummary(bundle.dir, (summary) => {
          summary.consents.push({
            consentId,
            kind,
            bank: issuer,
            createdAt: new Date().toISOString(),
            status,
          });
        });
      },
      setConsentStatus,
      async authorise(consentId, scope) {
        const authorised = await authoriseIntent(bank, {
          intentId: consentId,
          scope,
          redirectUri,
          psu: options.psu ?? 'alice',
          manual: Boolean(options.manual),
          askForRedirect: options.askForRedirect,
          progress,
        });
        setConsentStatus(consentId, 'Authorised');
        return authorised;
      },
    }),
  );
}
