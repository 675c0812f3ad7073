import { createInterface } from 'node:readline/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SANDBOX_USERNAMES } from '../bank/index.ts';
import { sandboxCredentialsFor, totpCode, totpUri, TOTP_STEP_SECONDS } from '../consent/index.ts';
import type { Clock } from '../shared/clock.ts';
import type { Config } from './config.ts';
import { environmentNames } from './config.ts';
import { Refusal, resetSandboxState, SANDBOX_STATE } from './data-dir.ts';

/**
 * The sandbox's helpers for a person at the command line: `obkit sandbox totp <username>` (the code an
 * authenticator app would show now, and the `otpauth://` URI to add to one) and `obkit sandbox reset`.
 * Neither exists outside the sandbox.
 */

/** A sandbox helper was refused: exit code 2 for a wrong argument, 1 for a refusal. */
export class SandboxToolError extends Refusal {
  override name = 'SandboxToolError';
}

function sandboxOnly(config: Config, what: string): void {
  if (!config.sandbox) {
    throw new SandboxToolError(
      `${what} exists only in the sandbox, and ${environmentNames.sandbox} (sandbox) is false`,
    );
  }
}

export interface SandboxTotp {
  username: string;
  password: string;
  code: string;
  /** Seconds until the code changes. */
  validForSeconds: number;
  otpauthUri: string;
}

/** The issuer name authenticator apps show; the consent pages' default bank name. */
export const SANDBOX_BANK_NAME = 'obkit bank';

/** A sandbox customer's login: password, the TOTP code at `clock`'s now, and the `otpauth://` URI. */
export function sandboxLoginOf(username: string, clock: Clock): SandboxTotp {
  const credentials = sandboxCredentialsFor(username);
  const now = clock.now();
  const elapsed = Math.floor(now.getTime() / 1000) % TOTP_STEP_SECONDS;
  return {
    username,
    password: credentials.password,
    code: totpCode(credentials.totpSecret, now),
    validForSeconds: TOTP_STEP_SECONDS - elapsed,
    otpauthUri: totpUri(credentials.totpSecret, username, SANDBOX_BANK_NAME),
  };
}

export function sandboxTotp(config: Config, username: string, clock: Clock): SandboxTotp {
  sandboxOnly(config, '`sandbox totp`');
  if (!SANDBOX_USERNAMES.includes(username)) {
    throw new SandboxToolError(
      `"${username}" is not a sandbox customer; they are ${SANDBOX_USERNAMES.join(', ')}`,
      { exitCode: 2 },
    );
  }
  return sandboxLoginOf(username, clock);
}

export interface ResetPrompt {
  /** Asks the question; resolves with the answer, or undefined when nobody answers (input closed). */
  ask(question: string): Promise<string | undefined>;
}

/** Asks on the terminal (or reads the first line of piped input). */
export function terminalPrompt(): ResetPrompt {
  return {
    async ask(question) {
      const lines = createInterface({ input: process.stdin, output: process.stdout });
      const closed = new Promise<undefined>((done) => lines.once('close', () => done(undefined)));
      try {
        return await Promise.race([lines.question(question), closed]);
      } finally {
        lines.close();
      }
    },
  };
}

/**
 * `obkit sandbox reset`: removes the sandbox's database, CA and directory keys from the data dir, after
 * a "yes" (or with `yes` set). Refused outside the sandbox, with a PostgreSQL database (which it would
 * not remove, leaving it with sealed keys and no master key), and while a process holds the data dir.
 */
export async function sandboxReset(
  config: Config,
  options: { yes: boolean; prompt: ResetPrompt },
): Promise<{ removed: string[]; dataDir: string }> {
  sandboxOnly(config, '`sandbox reset`');
  const dataDir = resolve(config.dataDir);
  if (config.databaseUrl) {
    throw new SandboxToolError(
      `${environmentNames.databaseUrl} is set: the sandbox's data is in that PostgreSQL database, which reset does not remove; drop it yourself, then run reset without ${environmentNames.databaseUrl}`,
    );
  }
  const present = SANDBOX_STATE.filter((name) => existsSync(join(dataDir, name)));
  if (present.length === 0) return { removed: [], dataDir };
  if (!options.yes) {
    const answer = await options.prompt.ask(
      `Remove the sandbox state in ${dataDir} (${present.join(', ')}: database, CA and keys)? Type yes to continue: `,
    );
    if (!/^y(es)?$/i.test((answer ?? '').trim())) {
      throw new SandboxToolError('nothing removed (answer yes, or pass --yes)');
    }
  }
  return { ...resetSandboxState(dataDir), dataDir };
}
