import type { FastifyInstance } from 'fastify';
import { API_VERSIONS, VERSION_BASES, VERSION_SPECS, type ApiVersion } from './versions.ts';

/** Where the bank lists the Read/Write versions and API base URLs it serves. */
export const DISCOVERY_PATH = '/open-banking/discovery';

interface DiscoveredApi {
  Version: ApiVersion;
  /** The API's base URL on this bank (mutual TLS). */
  BaseUrl: string;
  /** The OpenAPI file (OpenBankingUK/read-write-api-specs, `dist/openapi/`) that defines it. */
  Specification: string;
}

/**
 * The discovery document, in the shape of OB's discovery resource: `Data` with one list per API family
 * (`AccountAndTransactionAPI`, `PaymentInitiationAPI`, `FundsConfirmationAPI`), an entry per version
 * served with its base URL and its OpenAPI file. Built from versions.ts, so it lists exactly what is mounted.
 */
export function discoveryDocument(mtlsOrigin: string) {
  const list = (api: 'aisp' | 'pisp' | 'cbpii'): DiscoveredApi[] =>
    API_VERSIONS.flatMap((version) => {
      const base = VERSION_BASES[version][api];
      const spec = VERSION_SPECS[version][api];
      if (base === undefined || spec === undefined) return [];
      return [
        { Version: version, BaseUrl: `${mtlsOrigin}${base}`, Specification: spec.split('/').pop() ?? spec },
      ];
    });
  return {
    Data: {
      AccountAndTransactionAPI: list('aisp'),
      PaymentInitiationAPI: list('pisp'),
      FundsConfirmationAPI: list('cbpii'),
    },
    Links: { Self: `${mtlsOrigin}${DISCOVERY_PATH}` },
    Meta: {},
  };
}

/** Serves the discovery document to anyone on the mTLS listener (no client certificate needed to read it). */
export async function discovery(
  scope: FastifyInstance,
  context: { mtlsOrigin: string; paymentsMounted: boolean },
): Promise<void> {
  const document = discoveryDocument(context.mtlsOrigin);
  if (!context.paymentsMounted) document.Data.PaymentInitiationAPI = [];
  scope.get(DISCOVERY_PATH, { config: { clientCertificate: 'optional' } }, async () => document);
}
