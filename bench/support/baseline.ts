/**
 * The baseline of the HTTP benchmarks: a bare Node https server with the platform's certificate and
 * client-certificate verification (mutual TLS), answering a fixed JSON body serialised per request
 * (JSON.stringify), with keep-alive connections, as a best case of what the machine serves.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { ServerTls } from '../../src/server/tls-material.ts';

export interface Baseline {
  url(path: string): string;
  close(): Promise<void>;
}

export async function startBareHttps(
  tls: Pick<ServerTls, 'key' | 'cert' | 'ca'>,
  body: unknown,
): Promise<Baseline> {
  const server = createServer(
    { key: tls.key, cert: tls.cert, ca: tls.ca, requestCert: true, rejectUnauthorized: true },
    (_request, response) => {
      const json = JSON.stringify(body);
      response.writeHead(200, { 'content-type': 'application/json', 'x-fapi-interaction-id': randomUUID() });
      response.end(json);
    },
  );
  server.keepAliveTimeout = 65_000;
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
  return {
    url: (path) => `https://localhost:${port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
