import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { readBundle } from './bundle.ts';
import type { DecoupledJourneyResult } from './ciba.ts';
import { configOption, trustFor, type TppDefaults } from './cli-defaults.ts';
import { TppUsageError } from './errors.ts';
import type { CibaRegistration } from './register.ts';

/**
 * `obkit tpp authorize --decoupled`: decoupled authorisation (FAPI-CIBA) from the command line. The
 * customer approves on their bank app (in the sandbox: `/bank-app` on the bank's browser listener); the
 * command polls and prints the tokens. The bundle must be registered with `--ciba poll` (or ping).
 */
export function authorizeCommand(defaults: TppDefaults): Command {
  return new Command('authorize')
    .description(
      'authorise an intent; with --decoupled the customer approves on their bank app (CIBA) and this command polls',
    )
    .requiredOption('--bundle <dir>', 'the bundle folder, registered at the bank with --ciba')
    .option(
      '--decoupled',
      'decoupled authorisation (CIBA): required, the redirect journey is obkit tpp accounts',
    )
    .requiredOption('--psu <username>', "the customer's bank username")
    .option('--intent <id>', 'an intent staged earlier (default: stage a new account-access consent)')
    .addOption(
      new Option('--scope <scope>', 'the scope of the intent')
        .choices(['accounts', 'payments', 'fundsconfirmations'])
        .default('accounts'),
    )
    .addOption(
      new Option('--hint <kind>', 'how the customer is named')
        .choices(['login_hint', 'login_hint_token'])
        .default('login_hint'),
    )
    .option(
      '--binding-message <text>',
      'a short code shown here and in the bank app, for the customer to match',
    )
    .option('--expiry <seconds>', 'how long the customer has to answer (the bank caps it at 600)')
    .option('--interval <seconds>', 'seconds between polls', '2')
    .option('--bank <url>', "the bank's OpenID discovery URL (default: the bundle's only registration)")
    .option('--ca <file>', "PEM CA file to trust for the bank (default: the bundle's, else the sandbox CA)")
    .addOption(configOption())
    .option('--json', 'print the result as JSON')
    .action(
      async (options: {
        bundle: string;
        decoupled?: boolean;
        psu: string;
        intent?: string;
        scope: 'accounts' | 'payments' | 'fundsconfirmations';
        hint: 'login_hint' | 'login_hint_token';
        bindingMessage?: string;
        expiry?: string;
        interval: string;
        bank?: string;
        ca?: string;
        config?: string;
        json?: boolean;
      }) => {
        if (!options.decoupled) {
          throw new TppUsageError(
            'only decoupled authorisation is done here: add --decoupled (the redirect journey is obkit tpp accounts)',
          );
        }
        if (options.expiry !== undefined && !/^[1-9]\d{0,3}$/.test(options.expiry)) {
          throw new TppUsageError('--expiry must be a number of seconds from 1 to 9999');
        }
        if (!/^[1-9]\d{0,2}$/.test(options.interval)) {
          throw new TppUsageError('--interval must be a number of seconds from 1 to 999');
        }
        const json = Boolean(options.json);
        const bundle = readBundle(resolve(options.bundle));
        const { runDecoupledAuthorization } = await import('./ciba.ts');
        const result = await runDecoupledAuthorization({
          bundle,
          ...(options.bank ? { bank: options.bank } : {}),
          trust: await trustFor(options, defaults, bundle),
          psu: options.psu,
          hint: options.hint,
          ...(options.intent ? { intentId: options.intent } : {}),
          scope: options.scope,
          ...(options.bindingMessage ? { bindingMessage: options.bindingMessage } : {}),
          ...(options.expiry ? { requestedExpiry: Number(options.expiry) } : {}),
          intervalSeconds: Number(options.interval),
          progress: (line) => (json ? process.stderr : process.stdout).write(`✓ ${line}\n`),
        });
        process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : formatResult(result));
      },
    );
}

function formatResult(result: DecoupledJourneyResult): string {
  return (
    [
      `intent        ${result.intentId}`,
      `auth_req_id   ${result.authReqId}`,
      `scope         ${result.scope}`,
      `access token  ${result.accessToken} (${result.tokenType}, ${result.expiresIn ?? '?'} s, certificate-bound)`,
      `refresh token ${result.refreshToken ? 'issued' : 'none'}`,
    ].join('\n') + '\n'
  );
}

/** `obkit tpp register --ciba <mode> [--ciba-notification-endpoint <url>]` → the SDK's CIBA registration. */
export function cibaRegistrationOption(
  mode: string | undefined,
  notificationEndpoint: string | undefined,
): CibaRegistration | undefined {
  if (mode === undefined) {
    if (notificationEndpoint) throw new TppUsageError('--ciba-notification-endpoint needs --ciba ping');
    return undefined;
  }
  if (mode === 'poll') {
    if (notificationEndpoint) throw new TppUsageError('--ciba-notification-endpoint is only for --ciba ping');
    return { deliveryMode: 'poll' };
  }
  if (mode === 'ping') {
    if (!notificationEndpoint || !/^https:\/\//.test(notificationEndpoint)) {
      throw new TppUsageError('--ciba ping needs an https --ciba-notification-endpoint');
    }
    return { deliveryMode: 'ping', notificationEndpoint };
  }
  throw new TppUsageError('--ciba must be poll or ping');
}
