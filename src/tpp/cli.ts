import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Command, Option } from 'commander';
import { readBundle } from './bundle.ts';
import { configOption, trustFor, type TppDefaults } from './cli-defaults.ts';
import { authorizeCommand, cibaRegistrationOption } from './ciba-cli.ts';
import type { ConsentJourneyOptions } from './consent-journey.ts';
import { eventsCommand } from './events-cli.ts';
import { TppUsageError } from './errors.ts';
import type { ReadWriteVersion } from './open-banking.ts';
import { isRejected, PAYMENT_STATUSES } from './payment-versions.ts';

export type { TppDefaults } from './cli-defaults.ts';

// The SDK modules (keys, JOSE, OpenID, HTTP) load when a command runs, so that `--help` answers at once.

/** Prints a progress line per step (to stderr when --json keeps stdout for the machine-readable result). */
function progressPrinter(json: boolean): (line: string) => void {
  return (line) => (json ? process.stderr : process.stdout).write(`✓ ${line}\n`);
}

/** `--api-version`: which Read/Write version a command calls (v4.0, the standard in force, unless said). */
function apiVersionOption(): Option {
  return new Option('--api-version <version>', 'the Read/Write API version to call')
    .choices(['4.0', '3.1.11'])
    .default('4.0');
}

/** Repeatable options collect into a list. */
function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** What every PSU journey command takes: the bundle, the bank and its CA, the sandbox PSU. */
interface BankCommandOptions {
  bundle: string;
  bank?: string;
  ca?: string;
  config?: string;
  psu: string;
  manual?: boolean;
  json?: boolean;
}

function bankOptions(command: Command): Command {
  return command
    .requiredOption('--bundle <dir>', 'the bundle folder, registered at the bank (obkit tpp register)')
    .option('--bank <url>', "the bank's OpenID discovery URL (default: the bundle's only registration)")
    .option('--ca <file>', "PEM CA file to trust for the bank (default: the bundle's, else the sandbox CA)")
    .addOption(configOption())
    .option('--psu <username>', 'in the sandbox: the PSU who approves headlessly', 'alice')
    .option(
      '--manual',
      'print the authorisation URL and wait for the redirect URL on stdin, even in the sandbox',
    );
}

/** What the SDK's journeys take from those options. */
async function journeyOptions(
  options: BankCommandOptions,
  defaults: TppDefaults,
): Promise<ConsentJourneyOptions> {
  const json = Boolean(options.json);
  const bundle = readBundle(resolve(options.bundle));
  return {
    bundle,
    ...(options.bank ? { bank: options.bank } : {}),
    trust: await trustFor(options, defaults, bundle),
    psu: options.psu,
    manual: Boolean(options.manual),
    askForRedirect: (url) => askForRedirect(url, json),
    progress: progressPrinter(json),
  };
}

/** `obkit tpp …`: the TPP's side, built on the SDK; it talks to the bank and the directory over HTTP only. */
export function tppCommand(defaults: TppDefaults): Command {
  const tpp = new Command('tpp').description(
    'act as a TPP: onboard at the directory, register at banks, call the APIs',
  );

  tpp
    .command('onboard')
    .description('create keys here, send CSRs to the directory, and write the bundle folder')
    .requiredOption('--name <name>', 'organisation and software client name')
    .requiredOption('--roles <roles>', 'comma-separated PSD2 roles: AISP, PISP, CBPII')
    .requiredOption('--redirect-uri <uri...>', 'https redirect URI(s) for the software statement')
    .requiredOption('--out <dir>', 'folder to write the bundle into')
    .option('--directory <url>', 'directory base URL (default: the local sandbox, as configured)')
    .option(
      '--ca <file>',
      "PEM CA file to trust for the directory (default: the sandbox's <dataDir>/pki/root-ca.pem if present)",
    )
    .addOption(configOption())
    .addOption(
      new Option('--profile <profile>', 'certificate profile').choices(['obie', 'eidas']).default('obie'),
    )
    .option(
      '--trust-anchor <tan>',
      "the tan claim of your request signatures, if not the directory's host (e.g. openbanking.org.uk)",
    )
    .option('--json', 'print the bundle summary as JSON')
    .action(
      async (options: {
        name: string;
        roles: string;
        redirectUri: string[];
        out: string;
        directory?: string;
        ca?: string;
        config?: string;
        profile: 'obie' | 'eidas';
        trustAnchor?: string;
        json?: boolean;
      }) => {
        const { onboard, parseRoles } = await import('./onboard.ts');
        const sandbox = options.directory ? undefined : await defaults.localSandbox(options.config);
        const directoryUrl = options.directory ?? sandbox?.url ?? '';
        const caFile = options.ca ?? (sandbox && existsSync(sandbox.caFile) ? sandbox.caFile : undefined);
        const summary = await onboard({
          directoryUrl,
          // The local sandbox is directory and bank in one: later commands register there by default.
          ...(sandbox ? { bankDiscoveryUrl: `${sandbox.url}/.well-known/openid-configuration` } : {}),
          ...(caFile ? { caFile: resolve(caFile) } : {}),
          organisationName: options.name,
          clientName: options.name,
          roles: parseRoles(options.roles),
          redirectUris: options.redirectUri,
          certificateProfile: options.profile,
          outDir: resolve(options.out),
          trust: caFile ? await trustFor({ ca: caFile }, defaults) : [],
          ...(options.trustAnchor ? { trustAnchor: options.trustAnchor } : {}),
          progress: progressPrinter(Boolean(options.json)),
        });
        if (options.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        else {
          process.stdout.write(
            [
              `organisation  ${summary.organisation.id}  ${summary.organisation.name}`,
              `software      ${summary.software.id}  roles ${summary.software.roles.join(', ')}`,
              `transport     kid ${summary.certificates.transport.kid}`,
              `signing       kid ${summary.certificates.signing.kid}`,
              `next: npx obkit tpp register --bundle ${options.out}`,
            ].join('\n') + '\n',
          );
        }
      },
    );

  tpp
    .command('register')
    .description("register the bundle's software at a bank by Open Banking dynamic client registration")
    .requiredOption('--bundle <dir>', 'the bundle folder written by obkit tpp onboard')
    .option(
      '--bank <url>',
      "the bank's OpenID discovery URL or issuer (default: the bank the bundle was onboarded with, else the local sandbox)",
    )
    .option('--ca <file>', "PEM CA file to trust for the bank (default: the bundle's, else the sandbox CA)")
    .addOption(configOption())
    .addOption(
      new Option('--auth-method <method>', 'how the client authenticates at the token endpoint')
        .choices(['private_key_jwt', 'tls_client_auth'])
        .default('private_key_jwt'),
    )
    .option('--new', 'register a new client even if the bundle is registered at this bank already')
    .option('--ciba <mode>', 'also register for decoupled authorisation (CIBA): poll or ping')
    .option('--ciba-notification-endpoint <url>', 'with --ciba ping: the https URL the bank calls')
    .option('--json', 'print the registration as JSON')
    .action(
      async (options: {
        bundle: string;
        bank?: string;
        ca?: string;
        config?: string;
        authMethod: 'private_key_jwt' | 'tls_client_auth';
        ciba?: string;
        cibaNotificationEndpoint?: string;
        new?: boolean;
        json?: boolean;
      }) => {
        const ciba = cibaRegistrationOption(options.ciba, options.cibaNotificationEndpoint);
        const bundle = readBundle(resolve(options.bundle));
        const bank =
          options.bank ??
          bundle.summary.bank?.discoveryUrl ??
          `${(await defaults.localSandbox(options.config)).url}/.well-known/openid-configuration`;
        const { registerAtBank } = await import('./register.ts');
        const registration = await registerAtBank(bundle, {
          discoveryUrl: bank,
          trust: await trustFor(options, defaults, bundle),
          tokenEndpointAuthMethod: options.authMethod,
          ...(ciba ? { ciba } : {}),
          ...(options.new ? { new: true } : {}),
          progress: progressPrinter(Boolean(options.json)),
        });
        if (options.json) process.stdout.write(`${JSON.stringify(registration, null, 2)}\n`);
        else
          process.stdout.write(
            `client id     ${registration.clientId}${registration.updatedAt ? ' (registration updated)' : ''}\n` +
              `recorded in   ${options.bundle}/bundle.json\n`,
          );
      },
    );

  bankOptions(tpp.command('accounts'))
    .description(
      'the AIS journey: stage a consent, have the PSU authorise it, list accounts, balances and recent transactions',
    )
    .option('--redirect-uri <uri>', "one of the software's redirect URIs (default: the first)")
    .option('--transactions <n>', 'recent transactions shown per account', '5')
    .addOption(
      new Option(
        '--auth-method <method>',
        'how the client authenticates at the token endpoint (default: as registered)',
      ).choices(['private_key_jwt', 'tls_client_auth']),
    )
    .addOption(apiVersionOption())
    .option('--json', 'print the accounts, balances and transactions as JSON')
    .action(
      async (
        options: BankCommandOptions & {
          redirectUri?: string;
          transactions: string;
          authMethod?: 'private_key_jwt' | 'tls_client_auth';
          apiVersion: ReadWriteVersion;
        },
      ) => {
        if (!/^\d{1,4}$/.test(options.transactions))
          throw new TppUsageError('--transactions must be a whole number from 0 to 1000');
        const { formatAccounts, runAccountsJourney } = await import('./accounts.ts');
        const result = await runAccountsJourney({
          ...(await journeyOptions(options, defaults)),
          ...(options.authMethod ? { authMethod: options.authMethod } : {}),
          ...(options.redirectUri ? { redirectUri: options.redirectUri } : {}),
          transactions: Number(options.transactions),
          apiVersion: options.apiVersion,
        });
        process.stdout.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : formatAccounts(result));
      },
    );

  bankOptions(tpp.command('funds-check'))
    .description(
      'the CBPII journey: stage a funds-confirmation consent, have the PSU authorise it, ask whether an amount is available',
    )
    .requiredOption('--amount <decimal>', 'the amount to confirm, e.g. 12.34')
    .option('--currency <code>', 'ISO 4217 currency of --amount', 'GBP')
    .requiredOption(
      '--account <sortcode/account>',
      "the PSU's account the funds are in, e.g. 040004/12345678",
    )
    .option(
      '--reference <text>',
      'the reference of the confirmation (up to 35 characters)',
      'obkit funds check',
    )
    .addOption(apiVersionOption())
    .option('--json', "print the bank's funds confirmation (OBFundsConfirmationResponse1) as JSON")
    .action(
      async (
        options: BankCommandOptions & {
          amount: string;
          currency: string;
          account: string;
          reference: string;
          apiVersion: ReadWriteVersion;
        },
      ) => {
        const { formatFundsCheck, runFundsCheck } = await import('./funds-check.ts');
        const result = await runFundsCheck({
          ...(await journeyOptions(options, defaults)),
          account: options.account,
          amount: options.amount,
          currency: options.currency,
          reference: options.reference,
          apiVersion: options.apiVersion,
        });
        process.stdout.write(
          options.json ? `${JSON.stringify(result.confirmation, null, 2)}\n` : formatFundsCheck(result),
        );
      },
    );

  bankOptions(tpp.command('pay'))
    .description(
      'the PIS journey: a signed payment consent (domestic or international; single, scheduled or a standing order), ' +
        'PSU authorisation, signed submission, poll to a final status',
    )
    .requiredOption(
      '--amount <amount>',
      'amount as a decimal, e.g. 12.34 (a standing order: each payment; international: in --currency)',
    )
    .option('--currency <code>', 'ISO 4217 currency of --amount', 'GBP')
    .option('--to <sortcode/account>', 'the payee, e.g. 040004/12345678 (default: an external sandbox payee)')
    .option('--to-iban <iban>', 'an international payment to this IBAN, e.g. DE89370400440532013000')
    .option(
      '--transfer-currency <code>',
      'with --to-iban: the currency the payee receives (CurrencyOfTransfer; default: --currency)',
    )
    .option(
      '--at <date-time>',
      'a scheduled payment, made at this ISO 8601 date-time (e.g. 2030-07-01T09:00:00Z)',
    )
    .option(
      '--every <frequency>',
      'a standing order, at this OB frequency: EvryDay, EvryWorkgDay, IntrvlWkDay:01:05, IntrvlMnthDay:01:15, …',
    )
    .option('--first <date-time>', 'with --every: the date-time of the first payment')
    .option('--count <n>', 'with --every: the number of payments (default: until cancelled)')
    .option('--until <date-time>', 'with --every: the date-time of the final payment (instead of --count)')
    .option('--payee-name <name>', "the payee's name", 'Payee')
    .option('--reference <text>', 'the payment reference (up to 35 characters)', 'obkit payment')
    .addOption(apiVersionOption())
    .option('--json', 'print the final payment resource as JSON (in the version’s words)')
    .action(
      async (
        options: BankCommandOptions & {
          amount: string;
          currency: string;
          to?: string;
          toIban?: string;
          transferCurrency?: string;
          at?: string;
          every?: string;
          first?: string;
          count?: string;
          until?: string;
          payeeName: string;
          reference: string;
          apiVersion: ReadWriteVersion;
        },
      ) => {
        const { runPayJourney } = await import('./pay.ts');
        const result = await runPayJourney({
          ...(await journeyOptions(options, defaults)),
          apiVersion: options.apiVersion,
          amount: options.amount,
          currency: options.currency,
          to: options.to,
          toIban: options.toIban,
          transferCurrency: options.transferCurrency,
          at: options.at,
          every: options.every,
          first: options.first,
          count: options.count,
          until: options.until,
          payeeName: options.payeeName,
          reference: options.reference,
        });
        const label = result.kind === 'domestic-payment' ? 'payment' : result.kind;
        process.stdout.write(
          options.json
            ? `${JSON.stringify(result.payment, null, 2)}\n`
            : `${label} ${result.paymentId}  ${result.payment.Status}  consent ${result.consentId}\n`,
        );
        // A script must be able to tell a payment the bank refused from one it made.
        if (isRejected(result.payment.Status)) {
          process.stderr.write(
            `the bank rejected ${label} ${result.paymentId}: ${result.rejectionReason ?? 'it gave no reason in its payment-details'}\n`,
          );
          process.exitCode = 1;
        }
      },
    );

  bankOptions(tpp.command('vrp'))
    .description(
      'the VRP journey: a domestic VRP consent (sweeping, or commercial: CVRP1-3) with control parameters, ' +
        'PSU authorisation once, then one signed payment per --pay, and the limits left',
    )
    .requiredOption('--max-individual <amount>', 'MaximumIndividualAmount in GBP, e.g. 50')
    .requiredOption(
      '--period <type:amount>',
      'a periodic limit, TYPE:AMOUNT[:Calendar|Consent], e.g. Month:500 (repeat for more)',
      collect,
    )
    .addOption(
      new Option('--type <type>', 'the VRP type (CVRP1-3: commercial VRP, v4.0)')
        .choices(['sweeping', 'CVRP1', 'CVRP2', 'CVRP3'])
        .default('sweeping'),
    )
    .requiredOption('--pay <amount>', 'a payment under the consent, in GBP (repeat for more)', collect)
    .option('--to <sortcode/account>', 'the payee, e.g. 040004/12345678 (default: an external sandbox payee)')
    .option('--reference <text>', 'the payment reference (up to 35 characters)')
    .option(
      '--context <code>',
      'Risk.PaymentContextCode (default: TransferToSelf; commercial: EcommerceMerchantInitiatedPayment)',
    )
    .option('--merchant-category-code <mcc>', 'commercial VRP: the merchant’s ISO 18245 category code')
    .option('--merchant-customer-id <id>', 'commercial VRP: the PSU’s identifier at the merchant')
    .option('--payee-account-type <type>', 'commercial VRP: Risk.BeneficiaryAccountType (default Business)')
    .option('--purpose <code>', 'commercial VRP: Risk.PaymentPurposeCode, ISO 20022 (default OTHR)')
    .option('--category-purpose <code>', 'commercial VRP: Risk.CategoryPurposeCode, ISO 20022 (default OTHR)')
    .addOption(apiVersionOption())
    .option('--json', 'print the consent, each payment and the limits left as JSON')
    .action(
      async (
        options: BankCommandOptions & {
          maxIndividual: string;
          period: string[];
          type: string;
          pay: string[];
          to?: string;
          reference?: string;
          context?: string;
          merchantCategoryCode?: string;
          merchantCustomerId?: string;
          payeeAccountType?: string;
          purpose?: string;
          categoryPurpose?: string;
          apiVersion: ReadWriteVersion;
        },
      ) => {
        const { planVrp, formatVrp, runVrpJourney } = await import('./vrp.ts');
        const request = {
          apiVersion: options.apiVersion,
          maxIndividual: options.maxIndividual,
          periods: options.period,
          type: options.type,
          pays: options.pay,
          to: options.to,
          reference: options.reference,
          context: options.context,
          merchantCategoryCode: options.merchantCategoryCode,
          merchantCustomerId: options.merchantCustomerId,
          payeeAccountType: options.payeeAccountType,
          purpose: options.purpose,
          categoryPurpose: options.categoryPurpose,
        };
        planVrp(request); // every value checked before the bundle is read or the bank contacted
        const result = await runVrpJourney({ ...(await journeyOptions(options, defaults)), ...request });
        process.stdout.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : formatVrp(result));
        // A script must be able to tell a payment the bank refused from one it made.
        const refused = result.payments.filter(
          (outcome) => !outcome.payment || isRejected(outcome.payment.Status),
        );
        for (const outcome of refused)
          process.stderr.write(
            `the bank refused the VRP of ${outcome.amount} GBP: ${outcome.refusal ?? 'it gave no reason'}\n`,
          );
        if (refused.length > 0) process.exitCode = 1;
      },
    );

  bankOptions(tpp.command('pay-file'))
    .description(
      'the file-payment journey: a signed file-payment consent bound to the file, upload, PSU authorisation, ' +
        "signed submission, and the bank's status per transaction",
    )
    .requiredOption(
      '--file <file>',
      'a UK.OBIE.PaymentInitiation.4.0 (or, with --api-version 3.1.11, .3.1) file: {"Data":{"DomesticPayments":[<domestic Initiation>, …]}}',
    )
    .addOption(apiVersionOption())
    .option('--json', "print the file payment and the bank's payment-details per transaction as JSON")
    .action(async (options: BankCommandOptions & { file: string; apiVersion: ReadWriteVersion }) => {
      const { formatPayFile, planPaymentFile, runPayFileJourney } = await import('./pay-file.ts');
      // The file checked before the bundle is read or the bank contacted.
      planPaymentFile(resolve(options.file), options.apiVersion);
      const result = await runPayFileJourney({
        ...(await journeyOptions(options, defaults)),
        file: resolve(options.file),
        apiVersion: options.apiVersion,
      });
      process.stdout.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : formatPayFile(result));
      const rejected = result.transactions.filter((transaction) => isRejected(transaction.Status));
      if (
        PAYMENT_STATUSES[result.apiVersion].initiationFailed === result.payment.Status ||
        rejected.length > 0
      ) {
        const reasons = rejected.map((transaction) => {
          const detail = transaction.StatusDetail;
          const reason = detail?.StatusReasonDescription ?? detail?.StatusReason ?? 'no reason given';
          return `${transaction.PaymentTransactionId ?? '?'}: ${reason}`;
        });
        process.stderr.write(
          `the bank rejected ${rejected.length} of ${result.transactions.length} transactions of file payment ` +
            `${result.filePaymentId}${reasons.length > 0 ? ` (${reasons.join('; ')})` : ''}\n`,
        );
        process.exitCode = 1;
      }
    });

  tpp.addCommand(authorizeCommand(defaults));
  tpp.addCommand(eventsCommand(defaults));

  return tpp;
}

/** Shows the PSU's authorisation URL and reads the URL the browser came back to from stdin (one line). */
function askForRedirect(url: URL, json: boolean): Promise<string> {
  const out = json ? process.stderr : process.stdout;
  out.write(
    `Open this URL in a browser, log in as the customer and approve:\n\n  ${url.href}\n\n` +
      'Then paste here the whole URL the browser was redirected to, and press Enter:\n',
  );
  return new Promise((resolveLine, reject) => {
    const lines = createInterface({ input: process.stdin, terminal: false });
    let answered = false;
    lines.once('line', (line) => {
      answered = true;
      lines.close();
      resolveLine(line);
    });
    lines.once('close', () => {
      if (!answered) reject(new TppUsageError('stdin closed before the redirect URL was pasted'));
    });
  });
}
