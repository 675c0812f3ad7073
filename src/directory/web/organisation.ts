import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { html } from '../../shared/page-kit/index.ts';
import { DirectoryError } from '../errors.ts';
import { idPatterns } from '../ids.ts';
import { organisationInputSchema, parseInput } from '../validation.ts';
import type { WebContext } from './context.ts';
import { csrfField, formOf, requireSandbox, text } from './forms.ts';
import { organisationFacts, page, softwareForm } from './pages.ts';
import { endSession, hashSecret, managed, secretMatches, setSession } from './session.ts';

/** Create an organisation (sandbox), sign in to and out of it, and its page with its software statements. */
export function organisationRoutes(scope: FastifyInstance, context: WebContext): void {
  const { service } = context;

  scope.post('/organisations', async (request, reply) => {
    requireSandbox(context.sandbox);
    const form = formOf(request);
    const contactName = text(form, 'contactName');
    const contactEmail = text(form, 'contactEmail');
    const input = parseInput(
      organisationInputSchema,
      {
        name: text(form, 'name') ?? '',
        ...(text(form, 'ncaId') ? { ncaId: text(form, 'ncaId') } : {}),
        contacts:
          contactName || contactEmail
            ? [{ name: contactName ?? '', email: contactEmail ?? '', type: 'business' }]
            : [],
      },
      'the form',
    );
    const secret = randomBytes(24).toString('base64url');
    const organisation = await service.createOrganisation(input, hashSecret(secret));
    setSession(reply, organisation.id, secret);
    return page(
      reply.status(201),
      `Organisation ${organisation.name} created`,
      html` <p>
          Organisation id <code>${organisation.id}</code>, organisation identifier
          <code>${organisation.organizationIdentifier}</code>.
        </p>
        <div class="secret">
          <p>
            <strong>Management key</strong> (shown once; keep it to manage this organisation from another
            browser): <code>${secret}</code>
          </p>
        </div>
        <p><a href="/directory/organisations/${organisation.id}">Continue: add a software statement</a></p>`,
    );
  });

  scope.post('/sign-in', async (request, reply) => {
    const form = formOf(request);
    const orgId = text(form, 'orgId') ?? '';
    const secret = text(form, 'key') ?? '';
    const organisation = idPatterns.organisation.test(orgId)
      ? await service.organisation(orgId).catch(() => undefined)
      : undefined;
    if (!organisation || !secretMatches(organisation, secret)) {
      throw DirectoryError.forbidden('that organisation id and management key do not match');
    }
    setSession(reply, organisation.id, secret);
    return reply.redirect(`/directory/organisations/${organisation.id}`, 303);
  });

  scope.post('/sign-out', async (_request, reply) => {
    endSession(reply);
    return reply.redirect('/directory/', 303);
  });

  scope.get<{ Params: { orgId: string } }>('/organisations/:orgId', async (request, reply) => {
    const organisation = await managed(service, request, request.params.orgId);
    const software = await service.softwareOf(organisation.id);
    return page(
      reply,
      organisation.name,
      html` ${organisationFacts(organisation)}
        <h2>Software statements</h2>
        ${
          software.length === 0
            ? html`<p>None yet.</p>`
            : html`<table>
                <tr>
                  <th>Client name</th>
                  <th>Software id</th>
                  <th>Roles</th>
                  <th>Mode</th>
                </tr>
                ${software.map(
                  (item) =>
                    html`<tr>
                      <td>
                        <a href="/directory/organisations/${organisation.id}/software/${item.id}"
                          >${item.clientName}</a
                        >
                      </td>
                      <td class="mono">${item.id}</td>
                      <td>${item.roles.join(', ')}</td>
                      <td>${item.mode}</td>
                    </tr>`,
                )}
              </table>`
        }
        <h2>New software statement</h2>
        ${softwareForm(organisation, csrfField(reply))}
        <form method="post" action="/directory/sign-out">
          ${csrfField(reply)}<button type="submit">Sign out</button>
        </form>`,
    );
  });
}
