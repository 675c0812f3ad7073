import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { PARTS } from '../server/part-names.ts';
import { tppCommand, type TppDefaults } from '../tpp/cli.ts';
import type { ClusterFlags } from './run-cluster.ts';
import { speedUpModuleLoading } from './module-loading.ts';
import { addOperatorMi } from './operator-mi.ts';

// Only commander and the command definitions load up front, so that `--help` and `--version` answer at
// once; the platform (database, PKI, HTTP servers) and the TPP SDK load when a command runs.

interface ServerFlags {
  config?: string;
  dataDir?: string;
  browserPort?: string;
  mtlsPort?: string;
  operatorPort?: string;
  logLevel?: string;
}

function withServerFlags(command: Command): Command {
  return command
    .option('-c, --config <file>', 'JSON configuration file (also OBKIT_CONFIG)')
    .option('--data-dir <dir>', 'where the embedded database and sandbox PKI live (OBKIT_DATA_DIR)')
    .option('--browser-port <port>', 'browser-facing HTTPS port (OBKIT_BROWSER_PORT)')
    .option('--mtls-port <port>', 'mutual-TLS port for TPPs (OBKIT_MTLS_PORT)')
    .option('--operator-port <port>', "the bank's staff's port: console, metrics (OBKIT_OPERATOR_PORT)")
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

async function configFrom(flags: ServerFlags) {
  const { loadConfig } = await import('../server/config.ts');
  return loadConfig({
    ...(flags.config ? { file: flags.config } : {}),
    overrides: {
      dataDir: flags.dataDir,
      browserPort: flags.browserPort,
      mtlsPort: flags.mtlsPort,
      operatorPort: flags.operatorPort,
      logLevel: flags.logLevel,
    },
  });
}

async function serve(flags: ServerFlags, partNames: readonly string[] | 'all', title: string): Promise<void> {
  const config = await configFrom(flags);
  await import('reflect-metadata');
  const [
    { selectParts },
    { createLogger },
    { runUntilSignal },
    { systemClock },
    { platformLinks },
    { sandboxOperator },
  ] = await Promise.all([
    import('../server/parts.ts'),
    import('../server/logger.ts'),
    import('../server/run.ts'),
    import('../shared/clock.ts'),
    import('../server/portal.ts'),
    import('../server/operator-tools.ts'),
  ]);
  const operator = sandboxOperator();
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
      const labelWidth = Math.max(...[...links.browser, ...links.mtls].map((link) => link.label.length));
      const lines = [
        `${title} ready in ${seconds}s (${platform.store.backend === 'pglite' ? `embedded database in ${config.dataDir}` : 'PostgreSQL'})`,
        `  browser (no client certificate): ${platform.urls.browser}`,
        ...links.browser.map((link) => `    ${link.label.padEnd(labelWidth)} ${link.url}`),
        `  TPP endpoints (mutual TLS):      ${platform.urls.mtls}`,
        ...links.mtls.map((link) => `    ${link.label.padEnd(labelWidth)} ${link.url}`),
        ...(platform.tls.sandboxPkiDir
          ? [`  sandbox CA certificates:        ${platform.tls.sandboxPkiDir}`]
          : []),
        ...(parts.some((part) => part.name === 'operator')
          ? [`  operator console (bank staff):  ${platform.urls.operator}/console`]
          : []),
        ...(parts.some((part) => part.name === 'operator') && config.sandbox
          ? [
              `    sandbox admin: ${operator.name} / ${operator.password}; TOTP secret ${operator.totpSecret}`,
              `    ${operator.otpauthUri}`,
            ]
          : []),
        `  health: ${platform.urls.browser}/health   readiness: ${platform.urls.browser}/ready`,
        'Stop with Ctrl-C.',
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    },
  });
}

/** The TPP commands' defaults follow the server's configuration: where the local sandbox listens, its CA. */
const tppDefaults: TppDefaults = {
  async localSandbox(configFile) {
    const config = await configFrom(configFile ? { config: configFile } : {});
    return {
      url: `https://${config.publicHost}:${config.publicBrowserPort ?? config.browserPort}`,
      caFile: `${config.dataDir}/pki/root-ca.pem`,
    };
  },
};

function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
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
      const { systemClock } = await import('../shared/clock.ts');
      const login = sandboxTotp(
        await configFrom(command.optsWithGlobals<ServerFlags>()),
        username,
        systemClock,
      );
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
      const config = await configFrom(command.optsWithGlobals<ServerFlags>());
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
    .version(packageVersion(), '-V, --version', 'print the version of obkit')
    .option('--debug', 'on failure, print the stack trace too (anywhere on the command line)');

  const sandbox = withServerFlags(
    program
      .command('sandbox')
      .description('run every part in one process on localhost, with a sandbox PKI created on first run'),
  ).action((flags: ServerFlags) => serve(flags, 'all', 'obkit sandbox'));
  addSandboxTools(sandbox);

  const width = Math.max(...PARTS.map((part) => part.name.length));
  withServerFlags(
    program
      .command('serve')
      .description('run one or more parts of the platform')
      .argument('<parts...>', 'part names (see below)')
      .addHelpText(
        'after',
        `\nParts:\n${PARTS.map((part) => `  ${part.name.padEnd(width)}  ${part.about}`).join('\n')}\n`,
      ),
  ).action((names: string[], flags: ServerFlags) => serve(flags, names, `obkit ${names.join(' + ')}`));

  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .option('-c, --config <file>', 'JSON configuration file (also OBKIT_CONFIG)')
    .option('--data-dir <dir>', 'where the embedded database lives (OBKIT_DATA_DIR)')
    .action(async (flags: ServerFlags) => {
      const config = await configFrom(flags);
      const { openConfiguredStore } = await import('../server/platform.ts');
      const store = await openConfiguredStore(config);
      try {
        await store.migrate();
        process.stdout.write(`migrations applied (${store.backend})\n`);
      } finally {
        await store.close();
      }
    });

  program
    .command('cluster')
    .description(
      'run nginx (mutual TLS, deploy/nginx) in front of N sandbox instances in proxy mode on PostgreSQL (DATABASE_URL), for trying and testing',
    )
    .option('-n, --instances <count>', 'how many obkit instances', '3')
    .option('--browser-port <port>', "nginx's browser-facing HTTPS port (default: a free one)")
    .option('--mtls-port <port>', "nginx's mutual-TLS port for TPPs (default: a free one)")
    .option('--data-dir <dir>', 'PKI and directory keys the instances share (default: a new temporary one)')
    .action(async (flags: ClusterFlags) => {
      const { runCluster } = await import('./run-cluster.ts');
      await runCluster(flags);
    });

  const operatorCommand = program
    .command('operator')
    .description("the bank's staff: operator accounts of the console, the OB MI report");
  operatorCommand
    .command('add')
    .description('create an operator account; prints its password and TOTP secret once')
    .argument('<name>', 'the login name: lower-case letters, digits, dots, hyphens, underscores')
    .addOption(
      new Option('--role <role>', 'admin (may act) or auditor (may only read)')
        .choices(['admin', 'auditor'])
        .makeOptionMandatory(),
    )
    .option('-c, --config <file>', 'JSON configuration file (also OBKIT_CONFIG)')
    .option('--data-dir <dir>', 'where the embedded database lives (OBKIT_DATA_DIR)')
    .action(async (name: string, flags: ServerFlags & { role: string }) => {
      const config = await configFrom(flags);
      const { addOperatorAccount } = await import('../server/operator-tools.ts');
      const { systemClock } = await import('../shared/clock.ts');
      const created = await addOperatorAccount(config, systemClock, { name, role: flags.role });
      process.stdout.write(
        [
          `operator ${created.name} (${created.role}) created; this is the only time the password is shown`,
          `  password:    ${created.password}`,
          `  TOTP secret: ${created.totpSecret}`,
          `  ${created.otpauthUri}`,
        ].join('\n') + '\n',
      );
    });
  addOperatorMi(operatorCommand, configFrom);

  program.addCommand(tppCommand(tppDefaults));
  // Commands built apart (tpp) do not inherit these: every usage error comes back here, to exit 2.
  const everywhere = (command: Command): void => {
    command.exitOverride().showHelpAfterError('(add --help for usage)');
    command.commands.forEach(everywhere);
  };
  everywhere(program);
  return program;
}

async function main(argv: readonly string[]): Promise<void> {
  // Before any command loads its modules (they are all imported lazily).
  speedUpModuleLoading();
  // `--debug` and `--json` mean the same after any command; what follows a `--` is not an option.
  const end = argv.indexOf('--') === -1 ? argv.length : argv.indexOf('--');
  const options = argv.slice(0, end);
  const debug = options.includes('--debug') || process.env.OBKIT_DEBUG === '1';
  const json = options.includes('--json');
  const args = [...options.filter((arg) => arg !== '--debug'), ...argv.slice(end)];
  try {
    await buildProgram().parseAsync(args);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version') process.exit(0);
    // Help asked for (`obkit help`) exits 0; help shown for want of a command is bad usage.
    if (code === 'commander.help') process.exit((error as { exitCode?: unknown }).exitCode === 0 ? 0 : 2);
    const { reportFailure } = await import('./errors.ts');
    // Commander has printed its own message (and the help) already.
    const alreadyPrinted = typeof code === 'string' && code.startsWith('commander.');
    process.exit(reportFailure(error, { json, debug, alreadyPrinted }));
  }
}

await main(process.argv);
