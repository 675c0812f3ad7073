import type { BankConnection } from './bank.ts';
import {
  completeAuthorization,
  startAuthorization,
  type AuthorizationRequest,
  type PendingAuthorization,
  type TokenResponse,
} from './authorization.ts';
import { TppUsageError } from './errors.ts';
import { TppHttpError } from './http.ts';
import { approveInSandbox } from './sandbox-approval.ts';

export type AuthorisedBy = { kind: 'sandbox'; psu: string } | { kind: 'browser' };

export interface AuthoriseIntentOptions extends AuthorizationRequest {
  /** The sandbox PSU who approves headlessly. */
  psu: string;
  /** Never try the sandbox's headless approval: always hand the URL to a person. */
  manual: boolean;
  /** Shows the PSU the URL and resolves with the URL the browser was sent back to (pasted by a person). */
  askForRedirect(authorizationUrl: URL): Promise<string>;
  progress?: (line: string) => void;
}

/**
 * Has the PSU authorise a staged intent: in the sandbox by its headless approval as the named PSU; at
 * any other bank (or with `manual`) by a person opening the URL, the TPP being handed the redirect. Then
 * redeems the code for a certificate-bound token.
 */
export async function authoriseIntent(
  bank: BankConnection,
  options: AuthoriseIntentOptions,
): Promise<{ tokens: TokenResponse; authorisedBy: AuthorisedBy }> {
  const progress = options.progress ?? (() => undefined);
  const request = { intentId: options.intentId, scope: options.scope, redirectUri: options.redirectUri };
  let pending: PendingAuthorization = await startAuthorization(bank, request);
  let back: URL | undefined;
  let authorisedBy: AuthorisedBy = { kind: 'browser' };
  if (!options.manual) {
    try {
      back = await approveInSandbox(bank.agent, pending.url, options.redirectUri, {
        username: options.psu,
        decision: 'approve',
      });
      authorisedBy = { kind: 'sandbox', psu: options.psu };
      progress(`sandbox PSU ${options.psu} approved`);
    } catch (error) {
      if (!isNotASandbox(error)) throw error;
      progress('the bank has no headless sandbox approval: the PSU approves in a browser');
      // The pushed request is single-use: send the PSU with a fresh one.
      pending = await startAuthorization(bank, request);
    }
  }
  if (!back) {
    const pasted = (await options.askForRedirect(pending.url)).trim();
    try {
      back = new URL(pasted);
    } catch {
      throw new TppUsageError('that is not a URL: paste the whole address the browser was sent back to');
    }
    if (!back.href.startsWith(options.redirectUri))
      throw new TppUsageError(`the pasted URL does not start with the redirect URI ${options.redirectUri}`);
  }
  const tokens = await completeAuthorization(bank, pending, back);
  progress('redeemed the code for a certificate-bound access token');
  return { tokens, authorisedBy };
}

function isNotASandbox(error: unknown): boolean {
  return error instanceof TppHttpError && (error.status === 404 || error.status === 200);
}
