import type { FastifyInstance } from 'fastify';
import { ERROR_TEXTS, installPageKit } from '../../shared/page-kit/index.ts';
import { DirectoryError } from '../errors.ts';
import { certificateRoutes } from './certificates.ts';
import type { WebContext } from './context.ts';
import { downloadRoutes } from './downloads.ts';
import { homeRoutes } from './home.ts';
import { operatorRoutes } from './operator.ts';
import { organisationRoutes } from './organisation.ts';
import { errorBlock, page } from './pages.ts';
import { softwareRoutes } from './software.ts';

export type { WebContext } from './context.ts';

const formBodyLimit = 128 * 1024;

/**
 * The directory's web pages (browser listener, under /directory): create an organisation and its
 * software, upload CSRs or let the sandbox generate keys, download the bundle, see and revoke
 * certificates. Server-rendered; every value is escaped; no script at all; every form carries the platform's
 * CSRF token (`csrfField`), and every page the platform's security headers (src/shared/page-security).
 *
 *   GET  /, GET /tos                               home.ts: front page, the registry's terms
 *   POST /organisations, /sign-in, /sign-out      organisation.ts (the session is in session.ts)
 *   GET  /organisations/:orgId                     organisation.ts: its facts and software statements
 *   POST /organisations/:orgId/software            software.ts; GET …/software/:softwareId, /software/:softwareId
 *   POST …/software/:softwareId/certificates       certificates.ts; POST …/certificates/:kid/revoke
 *   GET  …/certificates/:kid/certificate.pem, …/ssa.jwt, …/bundle.tar.gz   downloads.ts (bundle.ts)
 *   GET  /operator, POST /operator/…               operator.ts: participant status
 *
 * The page layout and the pieces pages share are in pages.ts; form and id helpers in forms.ts.
 */
export async function webPages(scope: FastifyInstance, context: WebContext): Promise<void> {
  installPageKit(scope, {
    name: 'directory pages',
    secret: context.pageSecret,
    formBodyLimit,
    stylesheet: { path: '/assets/style.css' },
    statusOf: (error) => (error instanceof DirectoryError ? error.status : undefined),
    problem: (_request, reply, problem) => {
      if (problem.kind === 'unavailable' || problem.kind === 'failure') {
        const text = problem.kind === 'unavailable' ? ERROR_TEXTS.unavailable : ERROR_TEXTS.failure;
        return page(reply, text.title, errorBlock(text.message));
      }
      const message =
        problem.kind === 'form-expired'
          ? 'this form has expired or was not sent from the directory pages; open the page again'
          : problem.error instanceof Error
            ? problem.error.message
            : 'the request could not be read';
      return page(reply, 'Something is wrong', errorBlock(message));
    },
  });

  homeRoutes(scope, context);
  organisationRoutes(scope, context);
  operatorRoutes(scope, context);
  softwareRoutes(scope, context);
  certificateRoutes(scope, context);
  downloadRoutes(scope, context);
}
