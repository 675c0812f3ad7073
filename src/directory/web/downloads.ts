import type { FastifyInstance, FastifyReply } from 'fastify';
import { bundle } from './bundle.ts';
import type { WebContext } from './context.ts';
import { checkKid } from './forms.ts';
import { managedSoftware } from './session.ts';

/** The files of a software statement: a certificate (PEM), a fresh SSA, and the bundle. */
export function downloadRoutes(scope: FastifyInstance, context: WebContext): void {
  const { service } = context;

  scope.get<{ Params: { orgId: string; softwareId: string; kid: string } }>(
    '/organisations/:orgId/software/:softwareId/certificates/:kid/certificate.pem',
    async (request, reply) => {
      const { software } = await managedSoftware(service, request, request.params);
      const certificate = await service.certificate(software.id, checkKid(request.params.kid));
      return download(
        reply,
        'application/x-pem-file',
        `${certificate.type}-${certificate.kid}.cert.pem`,
        certificate.certificatePem,
      );
    },
  );

  scope.get<{ Params: { orgId: string; softwareId: string } }>(
    '/organisations/:orgId/software/:softwareId/ssa.jwt',
    async (request, reply) => {
      const { software } = await managedSoftware(service, request, request.params);
      return download(
        reply,
        'application/jwt',
        `${software.id}.ssa.jwt`,
        `${await service.issueSsa(software.id)}\n`,
      );
    },
  );

  scope.get<{ Params: { orgId: string; softwareId: string } }>(
    '/organisations/:orgId/software/:softwareId/bundle.tar.gz',
    async (request, reply) => {
      const { organisation, software } = await managedSoftware(service, request, request.params);
      const archive = await bundle(service, context.caChainPem, organisation, software);
      return download(reply, 'application/gzip', `obkit-bundle-${software.id}.tar.gz`, archive);
    },
  );
}

function download(reply: FastifyReply, type: string, fileName: string, content: string | Buffer) {
  return reply
    .header('content-type', type)
    .header('content-disposition', `attachment; filename="${fileName}"`)
    .send(content);
}
