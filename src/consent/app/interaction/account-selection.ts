import type { FastifyReply } from 'fastify';
import { csrfToken, fieldList, sendPage, type Form } from '../../../shared/page-kit/index.ts';
import { eligibleAccounts, type PsuAccount, type PsuCustomer } from '../../customers.ts';
import { describeIntent } from '../../describe.ts';
import type { Intent } from '../../intents.ts';
import type { InteractionDetails } from '../../interaction-bridge.ts';
import { KIND_INFO } from '../../kinds.ts';
import { consentPage } from '../pages.ts';
import type { InteractionScope } from './scope.ts';

/** The logged-in customer and the accounts they may choose for an intent. */
export interface ConsentChoice {
  customer: PsuCustomer;
  eligible: PsuAccount[];
}

/** The logged-in customer and the accounts they may choose for this intent; an error page otherwise. */
export async function consentChoice(
  scope: InteractionScope,
  reply: FastifyReply,
  details: InteractionDetails,
  intent: Intent,
): Promise<ConsentChoice | undefined> {
  const { customers, errorPageOf } = scope;
  const cancel = scope.cancelOf(reply, details);
  // The customer and their accounts in one statement.
  const found = details.customerId
    ? await customers.findCustomerWithAccounts({ id: details.customerId })
    : undefined;
  if (!found) {
    sendPage(
      reply,
      400,
      errorPageOf(reply, { title: 'Please log in again', message: 'We could not tell who you are.', cancel }),
    );
    return undefined;
  }
  const { customer, accounts } = found;
  if (intent.status === 'Authorised' && intent.customerId !== customer.id) {
    // A re-authentication is the same PSU confirming the same consent: nobody else may take it over.
    sendPage(
      reply,
      403,
      errorPageOf(reply, {
        title: 'This permission was given by someone else',
        message: `${customer.displayName} did not give this permission, so cannot renew it. If you have another login with us, go back to the app and log in with that one.`,
        cancel,
      }),
    );
    return undefined;
  }
  const { eligible, debtorNotHeld } = eligibleAccounts(intent, accounts);
  if (debtorNotHeld) {
    sendPage(
      reply,
      403,
      errorPageOf(reply, {
        title: 'This request is for someone else’s account',
        message: `The app asked to use an account that ${customer.displayName} does not hold. If you have another login with us, go back to the app and log in with that one.`,
        cancel,
      }),
    );
    return undefined;
  }
  if (eligible.length === 0) {
    sendPage(
      reply,
      409,
      errorPageOf(reply, {
        title: 'You have no account that can be used',
        message: 'None of your accounts can be used for this request.',
        cancel,
      }),
    );
    return undefined;
  }
  return { customer, eligible };
}

/** The accounts the intent already shares, as the customer's accounts (a re-authentication keeps them). */
export function sharedAccounts(intent: Intent, choice: ConsentChoice): PsuAccount[] {
  return choice.eligible.filter((account) => intent.accountIds.includes(account.id));
}

/** The accounts the form chose, when they are a valid choice for the intent; else the error to show. */
export function chosenAccounts(
  form: Form,
  intent: Intent,
  choice: ConsentChoice,
): { ok: true; accountIds: string[] } | { ok: false; error: string; selected: string[] } {
  const eligibleIds = new Set(choice.eligible.map((account) => account.id));
  const selected = [...new Set(fieldList(form, 'accounts'))];
  const select = KIND_INFO[intent.kind].accounts;
  const valid =
    selected.length > 0 &&
    selected.every((id) => eligibleIds.has(id)) &&
    (select === 'many' || selected.length === 1);
  if (valid) return { ok: true, accountIds: selected };
  return {
    ok: false,
    error: select === 'one' ? 'Choose the account to use.' : 'Choose at least one account.',
    selected: selected.filter((id) => eligibleIds.has(id)),
  };
}

/**
 * The consent page: the intent in plain words, and the accounts to choose from; for a re-authentication, the
 * permission given before and the accounts it keeps sharing.
 */
export function renderConsent(
  scope: InteractionScope,
  reply: FastifyReply,
  status: number,
  details: InteractionDetails,
  intent: Intent,
  choice: ConsentChoice,
  extra: { error?: string; selected?: string[] } = {},
): FastifyReply {
  const tpp = scope.tppOf(details);
  const reauthentication =
    intent.status === 'Authorised'
      ? {
          since: intent.authorisedAt,
          withdrawnAt: intent.accessWithdrawnAt,
          shared: sharedAccounts(intent, choice),
        }
      : undefined;
  return sendPage(
    reply,
    status,
    consentPage(scope.frame, {
      ...(reauthentication ? { reauthentication } : {}),
      uid: details.uid,
      csrf: csrfToken(reply),
      tpp,
      customerName: choice.customer.displayName,
      description: describeIntent(intent, tpp.name),
      accounts: choice.eligible,
      select: KIND_INFO[intent.kind].accounts,
      ...extra,
    }),
  );
}
