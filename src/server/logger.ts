import { pino, type Logger } from 'pino';
import type { Config } from './config.ts';

export type { Logger };

/** JSON logs; credentials and personal data in headers never reach them. */
export function createLogger(config: Pick<Config, 'logLevel'>, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { service: 'obkit' },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'req.headers["client-cert"]',
          'req.headers["x-jws-signature"]',
          'res.headers["set-cookie"]',
          '*.password',
          '*.privateKey',
          '*.client_secret',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
