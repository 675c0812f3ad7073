/**
 * The baseline of the HTTP benchmarks: a bare Node https server with the platform's certificate and
 * client-certificate verification (mutual TLS), answering a fixed JSON body serialised per request
 * (JSON.stringify), with keep-alive connections, as a best case of what the machine serves; and a plain fastify
 * serving the same, the framework's floor.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
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

/**
 * A control beside the bare server: a plain fastify on the same https + mTLS options as the platform's mTLS
 * listener (certificate asked for, verified by obkit, not by the handshake), one route answering the same JSON
 * text with an interaction id. Its distance from the bare server is the framework's; obkit's from it is
 * obkit's own (its surface, guard, route table and recording: bench/README.md, session 21).
 */
export async function startPlainFastify(
  tls: Pick<ServerTls, 'key' | 'cert' | 'ca'>,
  body: unknown,
): Promise<Baseline> {
  const text = JSON.stringify(body);
  const app = Fastify({
    serverFactory: (handler) => {
      const server = createServer(
        {
          key: tls.key,
          cert: tls.cert,
          ca: tls.ca,
          requestCert: true,
          rejectUnauthorized: false,
          minVersion: 'TLSv1.2',
        },
        handler,
      );
      server.keepAliveTimeout = 65_000;
      return server;
    },
  });
  app.get('/*', (_request, reply) => {
    reply.header('x-fapi-interaction-id', randomUUID()).type('application/json').send(text);
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { url: (path) => `https://localhost:${port}${path}`, close: () => app.close() };
}
