import type { FastifyInstance, FastifyRequest } from 'fastify';
import { field, html, readCookie } from '../../shared/page-kit/index.ts';
import type { ParticipantStatus } from '../../shared/participant-status.ts';
import { DirectoryError } from '../errors.ts';
import { statusOf } from '../http-api.ts';
import { idPatterns } from '../ids.ts';
import type { WebContext } from './context.ts';
import { csrfField, formOf, text } from './forms.ts';
import { page, statusRow } from './pages.ts';
import { setDirectoryCookie } from './session.ts';

/** The operator's session: a value derived from the operator key (operator-key.ts). */
const operatorCookieName = 'obkit_directory_operator';

/** The participants whose status the operator sets: each one's path segment, id parameter and 404 text. */
const STATUS_KINDS = {
  organisation: { segment: 'organisations', param: 'orgId', notFound: 'no such organisation' },
  software: { segment: 'software', param: 'softwareId', notFound: 'no such software statement' },
} as const;
type StatusKind = keyof typeof STATUS_KINDS;

/** Where the status form of participant `id` posts. */
function statusAction(kind: StatusKind, id: string): string {
  return `/directory/operator/${STATUS_KINDS[kind].segment}/${id}/status`;
}

/** The operator's pages: sign in with the operator key, then set organisations' and software's status. */
export function operatorRoutes(scope: FastifyInstance, context: WebContext): void {
  const { service } = context;

  const isOperator = (request: FastifyRequest) => {
    const presented = readCookie(request.headers.cookie, operatorCookieName);
    return presented !== undefined && context.operator.matches(presented, 'session');
  };
  const requireOperator = (request: FastifyRequest) => {
    if (!isOperator(request)) throw DirectoryError.forbidden('sign in as the directory operator first');
  };

  scope.get('/operator', async (request, reply) => {
    if (!isOperator(request)) {
      return page(
        reply,
        'Directory operator',
        html`<p>
            The operator suspends, revokes and reinstates participants. The operator key is in
            <code>directory/operator.key</code> in the platform's data directory.
          </p>
          <form method="post" action="/directory/operator/sign-in">
            ${csrfField(reply)}
            <label for="operatorKey">Operator key</label
            ><input type="password" id="operatorKey" name="key" required autocomplete="off" />
            <button type="submit">Sign in</button>
          </form>`,
      );
    }
    const organisations = await service.organisations();
    const rows = await Promise.all(
      organisations.map(async (organisation) => ({
        organisation,
        software: await service.softwareOf(organisation.id),
      })),
    );
    return page(
      reply,
      'Participant status',
      html`<p>
          A participant that is not Active gets no registration, no token and no API answer from the banks
          that read this directory, from the next request on; reinstated, it is served again.
        </p>
        <table>
          <tr>
            <th>Organisation / software</th>
            <th>Id</th>
            <th>Status</th>
            <th>Change</th>
          </tr>
          ${rows.flatMap(({ organisation, software }) => [
            statusRow(
              organisation.name,
              organisation.id,
              organisation.status,
              statusAction('organisation', organisation.id),
              csrfField(reply),
            ),
            ...software.map((item) =>
              statusRow(
                `· ${item.clientName}`,
                item.id,
                item.status,
                statusAction('software', item.id),
                csrfField(reply),
              ),
            ),
          ])}
        </table>
        <form method="post" action="/directory/operator/sign-out">
          ${csrfField(reply)}<button type="submit">Sign out</button>
        </form>`,
    );
  });

  scope.post('/operator/sign-in', async (request, reply) => {
    const key = text(formOf(request), 'key') ?? '';
    if (!context.operator.matches(key)) throw DirectoryError.forbidden('that is not the operator key');
    setDirectoryCookie(reply, operatorCookieName, context.operator.sessionToken);
    return reply.redirect('/directory/operator', 303);
  });

  scope.post('/operator/sign-out', async (_request, reply) => {
    setDirectoryCookie(reply, operatorCookieName, undefined);
    return reply.redirect('/directory/', 303);
  });

  const setStatus: Record<StatusKind, (id: string, status: ParticipantStatus) => Promise<unknown>> = {
    organisation: (id, status) => service.setOrganisationStatus(id, status),
    software: (id, status) => service.setSoftwareStatus(id, status),
  };
  /** `POST /operator/<segment>/:<param>/status`: sets one participant's status, then back to the list. */
  const statusRoute = (kind: StatusKind) => {
    const { segment, param, notFound } = STATUS_KINDS[kind];
    scope.post<{ Params: Record<string, string | undefined> }>(
      `/operator/${segment}/:${param}/status`,
      async (request, reply) => {
        requireOperator(request);
        const id = request.params[param] ?? '';
        if (!idPatterns[kind].test(id)) throw DirectoryError.notFound(notFound);
        const status = statusOf({ status: field(formOf(request), 'status') });
        await setStatus[kind](id, status);
        request.log.info({ [param]: id, status }, `directory ${kind} status set`);
        return reply.redirect('/directory/operator', 303);
      },
    );
  };
  statusRoute('organisation');
  statusRoute('software');
}
