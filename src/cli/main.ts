import 'reflect-metadata';
import { Command, Option } from 'commander';
import { ConfigError, loadConfig, type Config } from '../server/config.ts';
import { refusalOf } from '../server/data-dir.ts';
import { createLogger } from '../server/logger.ts';
import { selectParts, UnknownPartError } from '../server/parts.ts';
import { openConfiguredStore } from '../server/platform.ts';
import { platformLinks } from '../server/portal.ts';
import { runUntilSignal } from '../server/run.ts';
import { systemClock } from '../shared/clock.ts';
import { tppCommand } from '../tpp/cli.ts';
import { BundleError } from '../tpp/bundle.ts';
import { TppUsageError } from '../tpp/errors.ts';
import { TppHttpError } from '../tpp/http.ts';

/** Exit codes: 2 for a configuration or usage error, 1 for a failure at run time. */
const EXIT_CONFIG = 2;

interface ServerFlags {
  config?: string;
  dataDir?: string;
  browserPort?: string;
  mtlsPort?: string;
  logLevel?: string;
}

function withServerFlags(command: Command): Command {
  return command
    .option('-c, --config <file>', 'JSON configuration file (also OBKIT_CONFIG)')
    .option('--data-dir <dir>', 'where the embedded database and sandbox PKI live (OBKIT_DATA_DIR)')
    .option('--browser-port <port>', 'browser-facing HTTPS port (OBKIT_BROWSER_PORT)')
    .option('--mtls-port <port>', 'mutual-TLS port for TPPs (OBKIT_MTLS_PORT)')
    .addOption(
      new Option('--log-level <level>', 'log level (OBKIT_LOG_LEVEL)').choices([
        'fatal',
        'error',
        'warn',
        'info',
        'debug',
        'trace',
        'silent',
      ]),
    );
}

function configFrom(flags: ServerFlags): Config {
  return loadConfig({
    ...(flags.config ? { file: flags.config } : {}),
    overrides: {
      dataDir: flags.dataDir,
      browserPort: flags.browserPort,
      mtlsPort: flags.mtlsPort,
      logLevel: flags.logLevel,
    },
  });
}

async function serve(flags: ServerFlags, partNames: readonly string[] | 'all', title: string): Promise<void> {
  const config = configFrom(flags);
  const parts = selectParts(partNames);
  const logger = createLogger(config);
  await runUntilSignal({
    config,
    logger,
    clock: systemClock,
    parts,
    onReady(platform) {
      const seconds = (performance.now() / 1000).toFixed(2);
      const links = platformLinks(
        platform.urls,
        parts.map((part) => part.name),
        config.sandbox,
      );
      const lines = [
        `${title} ready in ${seconds}s (${platform.store.backend === 'pglite' ? `embedded database in ${config.dataDir}` : 'PostgreSQL'})`,
        `  browser (no client certificate): ${platform.urls.browser}`,
        ...links.browser.map((link) => `    ${link.label.padEnd(23)} ${link.url}`),
        `  TPP endpoints (mutual TLS):      ${platform.urls.mtls}`,
        ...links.mtls.map((link) => `    ${link.label.padEnd(23)} ${link.url}`),
        ...(platform.tls.sandboxPkiDir
          ? [`  sandbox CA certificates:        ${platform.tls.sandboxPkiDir}`]
          : []),
        `  health: ${platform.urls.browser}/health   readiness: ${platform.urls.browser}/ready`,
        'Stop with Ctrl-C.',
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    },
  });
}

/** `obkit sandbox totp|reset`: they take the sandbox command's --config and --data-dir. */
function addSandboxTools(sandbox: Command): void {
  sandbox
    .command('totp')
    .description(
      "print a sandbox customer's current TOTP code and the otpauth:// URI for an authenticator app",
    )
    .argument('<username>', 'alice, bob, carol or dave-ltd')
    .action(async (username: string, _flags: unknown, command: Command) => {
      const { sandboxTotp } = await import('../server/sandbox-tools.ts');
      const login = sandboxTotp(configFrom(command.optsWithGlobals<ServerFlags>()), username, systemClock);
      process.stdout.write(
        [
          `${login.code}  (${login.username}'s code, valid for ${login.validForSeconds} more seconds; password ${login.password})`,
          login.otpauthUri,
        ].join('\n') + '\n',
      );
    });
  sandbox
    .command('reset')
    .description('remove the sandbox state in the data dir (embedded database, CA, directory keys)')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (flags: { yes?: boolean }, command: Command) => {
      const { sandboxReset, terminalPrompt } = await import('../server/sandbox-tools.ts');
      const config = configFrom(command.optsWithGlobals<ServerFlags>());
      const outcome = await sandboxReset(config, { yes: flags.yes === true, prompt: terminalPrompt() });
      process.stdout.write(
        outcome.removed.length === 0
          ? `no sandbox state in ${outcome.dataDir}: nothing to remove\n`
          : `removed ${outcome.removed.join(', ')}\nthe next start creates a new sandbox\n`,
      );
    });
}

export function buildProgram(): Command {
  const program = new Command('obkit')
    .description('Open Banking platform: directory, authorization server, consent, model bank and TPP tools')
    .showHelpAfterError()
    .exitOverride();

  const sandbox = withServerFlags(
    program
      .command('sandbox')
      .description('run every part in one process on localhost, with a sandbox PKI created on first run'),
  ).action((flags: ServerFlags) => serve(flags, 'all', 'obkit sandbox'));
  addSandboxTools(sandbox);

  withServerFlags(
    program
      .command('serve')
      .description('run one or more parts of the platform')
      .argument('<parts...>', 'part names'),
  ).action((names: string[], flags: ServerFlags) => serve(flags, names, `obkit ${names.join(' + ')}`));

  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .option('-c, --config <file>', 'JSON configuration file (also OBKIT_CONFIG)')
    .option('--data-dir <dir>', 'where the embedded database lives (OBKIT_DATA_DIR)')
    .action(async (flags: ServerFlags) => {
      const config = configFrom(flags);
      const store = await openConfiguredStore(config);
      try {
        await store.migrate();
        process.stdout.write(`migrations applied (${store.backend})\n`);
      } finally {
        await store.close();
      }
    });

  program.addCommand(tppCommand());

  return program;
}

async function main(argv: readonly string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv as string[]);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UnknownPartError || error instanceof TppUsageError) {
      process.stderr.write(`obkit: ${error.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    const refusal = refusalOf(error);
    if (refusal) {
      process.stderr.write(`obkit: ${refusal.message}\n`);
      process.exit(refusal.exitCode);
    }
    if (error instanceof TppHttpError || error instanceof BundleError) {
      process.stderr.write(`obkit: ${error.message}\n`);
      process.exit(1);
    }
    const code = (error as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      const exitCode = (error as { exitCode?: number }).exitCode ?? EXIT_CONFIG;
      process.exit(code === 'commander.helpDisplayed' || code === 'commander.version' ? 0 : exitCode);
    }
    process.stderr.write(`obkit: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  }
}

await main(process.argv);
