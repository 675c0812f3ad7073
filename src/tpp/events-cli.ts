import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { readBundle } from './bundle.ts';
import { configOption, trustFor, type TppDefaults } from './cli-defaults.ts';
import { TppUsageError } from './errors.ts';
import { READ_WRITE_VERSIONS, type ReadWriteVersion } from './open-banking.ts';
import { EVENT_TYPE_CODES, type PolledEvents } from './events.ts';

interface CommonOptions {
  bundle: string;
  bank?: string;
  ca?: string;
  config?: string;
  apiVersion: ReadWriteVersion;
  json?: boolean;
}

const common = (command: Command) =>
  command
    .requiredOption('--bundle <dir>', 'the bundle folder, registered at the bank')
    .option('--bank <url>', "the bank's OpenID discovery URL (default: the bundle's only registration)")
    .option('--ca <file>', "PEM CA file to trust for the bank (default: the bundle's, else the sandbox CA)")
    .addOption(
      new Option('--api-version <version>', 'the Read/Write version')
        .choices(READ_WRITE_VERSIONS)
        .default('4.0'),
    )
    .addOption(configOption())
    .option('--json', 'print the result as JSON');

/**
 * `obkit tpp events subscribe` and `obkit tpp events poll`: the Event Notification APIs from the command
 * line (event subscriptions, aggregated polling with each SET's signature verified).
 */
export function eventsCommand(defaults: TppDefaults): Command {
  const events = new Command('events').description("the bank's event notifications: subscribe, poll, listen");

  events.addCommand(
    common(new Command('subscribe'))
      .description("create the TPP's event subscription: a callback URL for push, or none to poll")
      .option('--callback <url>', 'the https URL the bank pushes events to (default: none, poll)')
      .option('--types <codes...>', `the event types (default: every type): ${EVENT_TYPE_CODES.join(', ')}`)
      .action(async (options: CommonOptions & { callback?: string; types?: string[] }) => {
        if (options.callback !== undefined && !/^https:\/\//.test(options.callback))
          throw new TppUsageError('--callback must be an https URL');
        const unknown = (options.types ?? []).filter(
          (type) => !(EVENT_TYPE_CODES as readonly string[]).includes(type),
        );
        if (unknown.length > 0)
          throw new TppUsageError(
            `unknown event type(s) ${unknown.join(', ')}: use ${EVENT_TYPE_CODES.join(', ')}`,
          );
        const bundle = readBundle(resolve(options.bundle));
        const { subscribeToEvents } = await import('./events.ts');
        const subscription = await subscribeToEvents({
          bundle,
          ...(options.bank ? { bank: options.bank } : {}),
          trust: await trustFor(options, defaults, bundle),
          apiVersion: options.apiVersion,
          ...(options.callback ? { callbackUrl: options.callback } : {}),
          ...(options.types ? { types: options.types } : {}),
        });
        process.stdout.write(
          options.json
            ? `${JSON.stringify(subscription, null, 2)}\n`
            : `event subscription ${subscription.EventSubscriptionId}: ${subscription.CallbackUrl ? `push to ${subscription.CallbackUrl}` : 'poll'}; types ${subscription.EventTypes?.join(', ') ?? 'all'}\n`,
        );
      }),
  );

  events.addCommand(
    common(new Command('poll'))
      .description("poll the bank's events and verify each one's signature; --ack acknowledges them")
      .option('--ack', 'acknowledge the events received (the bank hands them out no more)')
      .option('--max <n>', 'the most events to take (the bank caps it)')
      .action(async (options: CommonOptions & { ack?: boolean; max?: string }) => {
        if (options.max !== undefined && !/^\d{1,4}$/.test(options.max))
          throw new TppUsageError('--max must be a number from 0 to 9999');
        const bundle = readBundle(resolve(options.bundle));
        const { pollEvents } = await import('./events.ts');
        const polled = await pollEvents({
          bundle,
          ...(options.bank ? { bank: options.bank } : {}),
          trust: await trustFor(options, defaults, bundle),
          apiVersion: options.apiVersion,
          ...(options.ack ? { ack: true } : {}),
          ...(options.max !== undefined ? { maxEvents: Number(options.max) } : {}),
        });
        process.stdout.write(options.json ? `${JSON.stringify(polled, null, 2)}\n` : formatPolled(polled));
      }),
  );
  events.addCommand(
    common(new Command('listen'))
      .description(
        'receive pushed events: an HTTPS receiver that verifies each one and answers 202 (Ctrl-C stops it)',
      )
      .requiredOption('--port <n>', 'the port to listen on (0: any free one)')
      .option('--host <address>', 'the address to listen on', '127.0.0.1')
      .option('--tls-cert <file>', "PEM server certificate (default: the bundle's transport certificate)")
      .option('--tls-key <file>', "PEM key of --tls-cert (default: the bundle's transport key)")
      .action(
        async (
          options: CommonOptions & { port: string; host: string; tlsCert?: string; tlsKey?: string },
        ) => {
          if (!/^\d{1,5}$/.test(options.port) || Number(options.port) > 65_535)
            throw new TppUsageError('--port must be a number from 0 to 65535');
          if ((options.tlsCert === undefined) !== (options.tlsKey === undefined))
            throw new TppUsageError('--tls-cert and --tls-key go together');
          const bundle = readBundle(resolve(options.bundle));
          const { listenForEvents } = await import('./events-listener.ts');
          const stop = new AbortController();
          process.once('SIGINT', () => stop.abort());
          process.once('SIGTERM', () => stop.abort());
          await listenForEvents({
            bundle,
            ...(options.bank ? { bank: options.bank } : {}),
            trust: await trustFor(options, defaults, bundle),
            apiVersion: options.apiVersion,
            port: Number(options.port),
            host: options.host,
            tls:
              options.tlsCert && options.tlsKey
                ? { cert: readFileSync(options.tlsCert, 'utf8'), key: readFileSync(options.tlsKey, 'utf8') }
                : {
                    // The transport certificate with its chain: a bank that trusts the directory's CAs
                    // verifies it, and accepts it as this TPP's (it names the software, not a host).
                    cert: `${bundle.transportCertificatePem.trim()}\n${bundle.caChainPem.trim()}\n`,
                    key: bundle.transportKeyPem,
                  },
            signal: stop.signal,
            onListening: (url) => process.stdout.write(`listening on ${url}/event-notifications\n`),
            onEvent: (event) =>
              process.stdout.write(
                options.json
                  ? `${JSON.stringify(event)}\n`
                  : formatPolled({ events: [event], acknowledged: [], moreAvailable: false }),
              ),
            onRejected: (reason) => process.stderr.write(`refused a push: ${reason}\n`),
          });
        },
      ),
  );
  return events;
}

function formatPolled(polled: PolledEvents): string {
  const lines = polled.events.map((event) => {
    const [type = '?', claims] = Object.entries(event.events)[0] ?? [];
    const subject = claims?.subject as Record<string, unknown> | undefined;
    return `${event.jti}  ${type.replace('urn:uk:org:openbanking:events:', '')}  ${String(subject?.['http://openbanking.org.uk/rty'] ?? '')} ${String(subject?.['http://openbanking.org.uk/rid'] ?? '')}  (signature verified)`;
  });
  if (lines.length === 0) lines.push('no events');
  if (polled.acknowledged.length > 0) lines.push(`acknowledged ${polled.acknowledged.length}`);
  if (polled.moreAvailable) lines.push('more are available: poll again');
  return `${lines.join('\n')}\n`;
}
