import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { withRegisteredBank } from './consent-journey.ts';
import {
  bankSigningJwksUri,
  verifyEventToken,
  type EventsConnectionOptions,
  type VerifiedEvent,
} from './events.ts';

/** The most a pushed SET may weigh; the bank's are a few kilobytes. */
const MAX_BODY_BYTES = 64 * 1024;

export interface EventListenerOptions extends EventsConnectionOptions {
  port: number;
  host?: string;
  /** The receiver's TLS identity: PEM certificate (chain) and key. */
  tls: { cert: string; key: string };
  /** Each pushed event, once its signature verified. */
  onEvent(event: VerifiedEvent): void;
  /** A push that was refused (not a verifiable SET), and why. */
  onRejected(reason: string): void;
  onListening(url: string): void;
  /** Stops the receiver. */
  signal: AbortSignal;
}

/**
 * The TPP's receiver of pushed events (`POST …/event-notifications`, the event-notifications file): an
 * HTTPS server that verifies each SET with `verifyEventToken` and answers 202, or 400 with an RFC 8935
 * error (`invalid_request`, `jwtSig`) for one it cannot take. Runs until `signal` aborts.
 */
export async function listenForEvents(options: EventListenerOptions): Promise<void> {
  await withRegisteredBank(options, async (bank, registration) => {
    const jwksUri = await bankSigningJwksUri(bank, options.bundle, registration.discoveryUrl);
    const refuse = (response: ServerResponse, err: string, description: string) => {
      options.onRejected(`${err}: ${description}`);
      response
        .writeHead(400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ err, description }));
    };
    const server: Server = createServer(
      { cert: options.tls.cert, key: options.tls.key },
      (request, response) => {
        if (request.method !== 'POST' || !request.url?.endsWith('/event-notifications')) {
          response.writeHead(404).end();
          return;
        }
        if (request.headers['content-type']?.split(';')[0]?.trim() !== 'application/jwt') {
          refuse(response, 'invalid_request', 'the body must be application/jwt');
          request.resume();
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        request.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_BODY_BYTES) chunks.push(chunk);
        });
        request.on('end', () => {
          if (size > MAX_BODY_BYTES) return refuse(response, 'invalid_request', 'the SET is too large');
          const jwt = Buffer.concat(chunks).toString('utf8').trim();
          verifyEventToken(bank, jwt, { jwksUri }).then(
            (event) => {
              response.writeHead(202).end();
              options.onEvent(event);
            },
            (error: unknown) => refuse(response, 'jwtSig', (error as Error).message.slice(0, 256)),
          );
        });
      },
    );
    server.listen(options.port, options.host ?? '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    options.onListening(`https://${options.host ?? '127.0.0.1'}:${port}`);
    if (!options.signal.aborted) await once(options.signal, 'abort');
    await new Promise<void>((done) => server.close(() => done()));
  });
}
