import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  endedByTime,
  getIntent,
  INTENT_KINDS,
  IntentTransitionError,
  KIND_INFO,
  listAudit,
  revoke,
  type EndedByTime,
  type Intent,
} from '../../consent/index.ts';
import { csrfToken, field, html, type Form } from '../../shared/page-kit/index.ts';
import {
  ACCESS_WITHDRAWN,
  EXPIRED,
  OPERATOR_CONSENT_STATES,
  operatorConsentState,
  searchConsents,
  type ConsentRow,
} from '../queries.ts';
import {
  actionForm,
  CONSOLE_BASE,
  dateSearchForm,
  listTable,
  searchInput,
  searchSelect,
  statusBadge,
  when,
} from './pages.ts';
import { operatorOf, type ConsoleScope } from './scope.ts';
import { parseSearch } from './search.ts';

/** `GET /console/consents[?customer=&tpp=&kind=&status=&from=&to=]`. */
export function consentSearch(scope: ConsoleScope) {
  const { db, clock, page } = scope;
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const {
      typed: search,
      filter,
      problem,
    } = parseSearch(request.query, ['customer', 'tpp', 'kind', 'status'] as const, {
      kind: INTENT_KINDS,
      status: OPERATOR_CONSENT_STATES,
    });
    const bad = !filter;
    const rows = filter ? await searchConsents(db, filter, clock.now()) : [];
    return page(
      reply,
      bad ? 400 : 200,
      'Consents',
      html`${dateSearchForm(
        `${CONSOLE_BASE}/consents`,
        [
          searchInput('customer', 'Customer', search.customer),
          searchInput('tpp', 'TPP', search.tpp),
          searchSelect('kind', 'Kind', INTENT_KINDS, search.kind),
          searchSelect('status', 'Status', OPERATOR_CONSENT_STATES, search.status),
        ],
        search,
        problem,
      )}
      ${listTable(
        ['Consent', 'Kind', 'Status', 'TPP', 'Customer', 'Created'],
        rows.map((row) => {
          const stored = storedAs(row);
          return [
            html`<a href="${CONSOLE_BASE}/consents/${encodeURIComponent(row.id)}"><code>${row.id}</code></a>`,
            row.kind,
            stored ? html`<span title="${stored}">${row.status}</span>` : row.status,
            row.tppName,
            row.customer ?? '—',
            when(row.createdAt),
          ];
        }),
      )}
      ${rows.length === 0 && !bad ? html`<p>No consent matches.</p>` : ''}`,
    );
  };
}

/** What ended a consent by time (`endedByTime`), as the console says it: "… at <when>". */
function endedSentence(ended: EndedByTime): string {
  return ended.cause === 'expiry'
    ? `expired at ${when(ended.at)}`
    : `authorisation window closed at ${when(ended.at)} before the customer authorised it`;
}

/** For an operator state that is not the stored status, what is stored and why it reads otherwise. */
function storedAs(row: ConsentRow): string | undefined {
  if (row.status === EXPIRED && row.ended) return `${row.storedStatus}; ${endedSentence(row.ended)}`;
  if (row.status === ACCESS_WITHDRAWN)
    return `Authorised; access withdrawn by the customer at ${when(row.accessWithdrawnAt)}`;
  return undefined;
}

/** `GET /console/consents/:id`: details and history; revoke (admin). */
export function consentPage(scope: ConsoleScope) {
  const { db, clock, page, isAdmin } = scope;
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const { id } = request.params as { id: string };
    const now = clock.now();
    const intent = await getIntent(db, id);
    if (!intent) return page(reply, 404, 'No such consent', html`<p>No consent <code>${id}</code>.</p>`);
    const history = await listAudit(db, id);
    // Its TPP's name and customer's username, as the list shows them.
    const [row] = await searchConsents(db, { id }, now, 1);
    const state = operatorConsentState(intent, now);
    const ended = endedByTime(intent, now);
    const revocation = revocationOf(intent, ended);
    return page(
      reply,
      200,
      `Consent ${intent.id}`,
      html`<dl class="facts">
          <div>
            <dt>Kind</dt>
            <dd>${intent.kind}</dd>
          </div>
          <div>
            <dt>Status</dt>
            <dd id="consent-status">${intent.status}</dd>
          </div>
          ${
            // Stored as Authorised (v3.1.11 reads it so; v4.0 reads EXPD, or CANC for withdrawn account
            // access), yet no token works on it; or stored as awaiting authorisation, yet never to be
            // authorised (its expiry, or a payment consent's authorisation window, passed first).
            ended
              ? html`<div>
                  <dt>Access</dt>
                  <dd id="consent-access">
                    ${statusBadge('Expired', false)}
                    ${
                      ended.cause === 'authorisation-deadline'
                        ? `authorisation window (Data.Authorisation.CompletionDateTime) closed at ${when(ended.at)}`
                        : `expired at ${when(ended.at)}`
                    }${
                      intent.status === 'Authorised'
                        ? ': it serves no request'
                        : ' before the customer authorised it: it can no longer be authorised'
                    },
                    and the TPP needs a new consent from the
                    customer.${
                      intent.accessWithdrawnAt
                        ? ` Its access had been withdrawn by the customer at ${when(intent.accessWithdrawnAt)}.`
                        : ''
                    }
                  </dd>
                </div>`
              : state === ACCESS_WITHDRAWN
                ? html`<div>
                    <dt>Access</dt>
                    <dd id="consent-access">
                      ${statusBadge('Withdrawn', false)} access withdrawn by the customer at
                      ${when(intent.accessWithdrawnAt)}: its tokens were revoked, and it serves no request
                      until the customer re-authenticates it.
                    </dd>
                  </div>`
                : ''
          }
          <div>
            <dt>TPP</dt>
            <dd>${row?.tppName ?? intent.clientId} (<code>${intent.clientId}</code>)</dd>
          </div>
          <div>
            <dt>Customer</dt>
            <dd>${row?.customer ?? intent.customerId ?? '—'}</dd>
          </div>
          <div>
            <dt>Permissions</dt>
            <dd>${intent.permissions.join(', ') || '—'}</dd>
          </div>
          <div>
            <dt>Accounts</dt>
            <dd>${intent.accountIds.join(', ') || '—'}</dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>${when(intent.createdAt)}</dd>
          </div>
          <div>
            <dt>Expires</dt>
            <dd>${when(intent.expiresAt)}</dd>
          </div>
          ${
            intent.authoriseBy
              ? html`<div>
                  <dt>Authorise by</dt>
                  <dd>${when(intent.authoriseBy)}</dd>
                </div>`
              : ''
          }
          <div>
            <dt>Last used</dt>
            <dd>${when(intent.lastUsedAt)}</dd>
          </div>
        </dl>
        ${
          !isAdmin(request) || revocation === 'not-revocable'
            ? ''
            : revocation === 'revocable'
              ? actionForm(
                  `${CONSOLE_BASE}/consents/${encodeURIComponent(intent.id)}/revoke`,
                  csrfToken(reply),
                  'Revoke',
                  { askReason: true },
                )
              : html`<p id="consent-revoke">${revocation.reason}</p>`
        }
        ${listTable(
          ['When', 'Who', 'What', 'Status', 'Detail'],
          history.map((entry) => [
            when(entry.at),
            entry.actor,
            entry.event,
            `${entry.from ?? ''}${entry.to ? ` → ${entry.to}` : ''}`,
            entry.detail ?? '',
          ]),
          { className: 'history', caption: 'History' },
        )}`,
    );
  };
}

/**
 * Whether the console offers Revoke: on a consent of a revocable kind that is Authorised (withdrawn or not) or
 * awaiting authorisation — but not once time has ended it (`endedByTime`: the operator state `EXPIRED`). An
 * expired consent already serves no request and can never be authorised again: revoking it would end
 * nothing, only relabel how it ended (the TPP would read `Revoked`/`CANC` instead of its status or
 * `EXPD`, and be sent an event saying its authorisation was revoked; the customer would read Withdrawn
 * instead of Expired), which would misstate it. The customer's dashboard likewise offers withdrawal only while a consent is Active. The TPP's own
 * DELETE stays allowed, as the Read/Write API has it.
 */
function revocationOf(
  intent: Pick<Intent, 'kind' | 'status'>,
  ended: EndedByTime | undefined,
): 'revocable' | 'not-revocable' | { reason: string } {
  if (!KIND_INFO[intent.kind].revocable) return 'not-revocable';
  if (intent.status !== 'Authorised' && intent.status !== 'AwaitingAuthorisation') return 'not-revocable';
  if (ended)
    return {
      reason: `Not revocable: it ${endedSentence(ended)} and already serves no request; revoking it would end nothing.`,
    };
  return 'revocable';
}

/**
 * `POST /console/consents/:id/revoke` (admin): the path the customer's dashboard takes. Refused (409, with its
 * reason) where the page offers no Revoke: an expired consent, a kind that cannot be revoked, an ended one.
 */
export function revokePosted(scope: ConsoleScope) {
  const { db, clock, deps, page, redirect, audit } = scope;
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const { id } = request.params as { id: string };
    const reason = (field(request.body as Form, 'reason') ?? '').trim().slice(0, 200);
    if (!reason)
      return page(
        reply,
        400,
        'Revoke',
        html`<p class="error" role="alert">Say why the consent is revoked.</p>`,
      );
    const operator = operatorOf(request);
    // The page's rule, at the moment of the POST: an expired consent is not revoked (`revocationOf`). It cannot
    // stop being expired, so this read cannot go stale before the transition below.
    const intent = await getIntent(db, id);
    const revocation = intent ? revocationOf(intent, endedByTime(intent, clock.now())) : undefined;
    if (typeof revocation === 'object')
      return page(reply, 409, 'Cannot revoke', html`<p class="error" role="alert">${revocation.reason}</p>`);
    try {
      // The bank ends it (Revoked, not the customer's re-authenticatable withdrawal, `withdrawAccess`): stored,
      // the TPP's event raised, every token killed everywhere.
      await revoke({ db, clock, notifyRevoked: deps.notifyRevoked }, id, {
        actor: 'system',
        detail: `revoked by operator ${operator.name} in the console: ${reason}`,
      });
    } catch (error) {
      if (!(error instanceof IntentTransitionError)) throw error;
      return page(reply, 409, 'Cannot revoke', html`<p class="error" role="alert">${error.message}</p>`);
    }
    await audit(request, { action: 'consent.revoked', subject: `consent:${id}`, detail: { reason } });
    return redirect(reply, `${CONSOLE_BASE}/consents/${encodeURIComponent(id)}`);
  };
}
