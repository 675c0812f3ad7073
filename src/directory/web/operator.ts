import type { FastifyInstance, FastifyRequest } from 'fastify';
import { appendSetCookie, field, html, readCookie } from '../../shared/page-kit/index.ts';
import { DirectoryError } from '../errors.ts';
import { statusOf } from '../http-api.ts';
import { idPatterns } from '../ids.ts';
import type { WebContext } from './context.ts';
import { csrfField, formOf, text } from './forms.ts';
import { page, statusRow } from './pages.ts';

/** The operator's session: a value derived from the operator key (operator-key.ts). */
const operatorCookieName = 'obkit_directory_operator';

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
              `/directory/operator/organisations/${organisation.id}/status`,
              csrfField(reply),
            ),
            ...software.map((item) =>
              statusRow(
                `· ${item.clientName}`,
                item.id,
                item.status,
                `/directory/operator/software/${item.id}/status`,
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
    appendSetCookie(
      reply.raw,
      `${operatorCookieName}=${context.operator.sessionToken}; Path=/directory; Max-Age=${8 * 3600}; HttpOnly; Secure; SameSite=Strict`,
    );
    return reply.redirect('/directory/operator', 303);
  });

  scope.post('/operator/sign-out', async (_request, reply) => {
    appendSetCookie(
      reply.raw,
      `${operatorCookieName}=; Path=/directory; Max-Age=0; HttpOnly; Secure; SameSite=Strict`,
    );
    return reply.redirect('/directory/', 303);
  });

  scope.post<{ Params: { orgId: string } }>(
    '/operator/organisations/:orgId/status',
    async (request, reply) => {
      requireOperator(request);
      if (!idPatterns.organisation.test(request.params.orgId))
        throw DirectoryError.notFound('no such organisation');
      const status = statusOf({ status: field(formOf(request), 'status') });
      await service.setOrganisationStatus(request.params.orgId, status);
      request.log.info({ orgId: request.params.orgId, status }, 'directory organisation status set');
      return reply.redirect('/directory/operator', 303);
    },
  );

  scope.post<{ Params: { softwareId: string } }>(
    '/operator/software/:softwareId/status',
    async (request, reply) => {
      requireOperator(request);
      if (!idPatterns.software.test(request.params.softwareId))
        throw DirectoryError.notFound('no such software statement');
      const status = statusOf({ status: field(formOf(request), 'status') });
      await service.setSoftwareStatus(request.params.softwareId, status);
      request.log.info({ softwareId: request.params.softwareId, status }, 'directory software status set');
      return reply.redirect('/directory/operator', 303);
    },
  );
}
