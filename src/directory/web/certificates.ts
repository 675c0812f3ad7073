import type { FastifyInstance } from 'fastify';
import { field } from '../../shared/page-kit/index.ts';
import { revocationReasons, type RevocationReason } from '../service.ts';
import { certificateTypes } from '../validation.ts';
import type { WebContext } from './context.ts';
import { checkKid, choice, formOf, requireSandbox } from './forms.ts';
import { managedSoftware } from './session.ts';

/** Issue a certificate of a software statement (from a CSR, or with a key the sandbox generates) and revoke one. */
export function certificateRoutes(scope: FastifyInstance, context: WebContext): void {
  const { service } = context;

  scope.post<{ Params: { orgId: string; softwareId: string } }>(
    '/organisations/:orgId/software/:softwareId/certificates',
    async (request, reply) => {
      const { organisation, software } = await managedSoftware(service, request, request.params);
      const form = formOf(request);
      const type = choice(field(form, 'type') ?? '', certificateTypes, 'certificate type');
      const csr = field(form, 'csr')?.trim();
      if (!csr) requireSandbox(context.sandbox, 'generating keys in the directory');
      await service.issueCertificate(software.id, type, csr ? { csr } : { generate: true });
      return reply.redirect(`/directory/organisations/${organisation.id}/software/${software.id}`, 303);
    },
  );

  scope.post<{ Params: { orgId: string; softwareId: string; kid: string } }>(
    '/organisations/:orgId/software/:softwareId/certificates/:kid/revoke',
    async (request, reply) => {
      const { organisation, software } = await managedSoftware(service, request, request.params);
      const reason = choice(
        field(formOf(request), 'reason') ?? 'unspecified',
        revocationReasons,
        'reason',
      ) as RevocationReason;
      await service.revoke(software.id, checkKid(request.params.kid), reason);
      return reply.redirect(`/directory/organisations/${organisation.id}/software/${software.id}`, 303);
    },
  );
}
