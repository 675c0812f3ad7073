import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  InteractionNotFoundError,
  type ConsentResult,
  type InteractionBridge,
  type InteractionDetails,
  type LoginResult,
} from '../../src/consent/index.ts';

export const INTERACTION_COOKIE = 'test_interaction';

export type BridgeCall =
  | { kind: 'finishLogin'; uid: string; result: LoginResult }
  | { kind: 'finishConsent'; uid: string; result: ConsentResult }
  | { kind: 'finishLoginAndConsent'; uid: string; login: LoginResult; consent: ConsentResult }
  | { kind: 'abort'; uid: string; error: string; description: string };

/**
 * A test double of the authorization server's side of the bridge: interactions live in a map, the browser
 * names its interaction with a cookie (as oidc-provider's `_interaction` cookie does), finishing a login
 * turns the prompt into `consent` as the provider would after resuming, and every call is recorded
 * together with what `observe` saw at that moment (e.g. the intent's status).
 */
export class RecordingBridge implements InteractionBridge {
  readonly interactions = new Map<string, InteractionDetails>();
  readonly calls: (BridgeCall & { observed?: unknown })[] = [];
  observe: (() => Promise<unknown>) | undefined;

  start(
    details: Omit<InteractionDetails, 'prompt'> & { prompt?: InteractionDetails['prompt'] },
  ): InteractionDetails {
    const interaction: InteractionDetails = { prompt: 'login', ...details };
    this.interactions.set(interaction.uid, interaction);
    return interaction;
  }

  #uidOf(req: IncomingMessage): string | undefined {
    const cookie = req.headers.cookie ?? '';
    const match = new RegExp(`(?:^|;\\s*)${INTERACTION_COOKIE}=([^;]+)`).exec(cookie);
    return match?.[1];
  }

  async #record(call: BridgeCall): Promise<void> {
    this.calls.push({ ...call, observed: this.observe ? await this.observe() : undefined });
  }

  #redirect(res: ServerResponse, location: string): void {
    res.writeHead(303, { location });
    res.end();
  }

  async details(req: IncomingMessage): Promise<InteractionDetails> {
    const uid = this.#uidOf(req);
    const interaction = uid ? this.interactions.get(uid) : undefined;
    if (!interaction) throw new InteractionNotFoundError('no interaction');
    return { ...interaction };
  }

  async finishLogin(req: IncomingMessage, res: ServerResponse, result: LoginResult): Promise<void> {
    const interaction = await this.details(req);
    await this.#record({ kind: 'finishLogin', uid: interaction.uid, result });
    this.interactions.set(interaction.uid, {
      ...interaction,
      prompt: 'consent',
      customerId: result.customerId,
    });
    this.#redirect(res, `/auth/${interaction.uid}`);
  }

  async finishConsent(req: IncomingMessage, res: ServerResponse, result: ConsentResult): Promise<void> {
    const interaction = await this.details(req);
    await this.#record({ kind: 'finishConsent', uid: interaction.uid, result });
    this.interactions.delete(interaction.uid);
    this.#redirect(res, `https://tpp.example/cb?code=test-code`);
  }

  async finishLoginAndConsent(
    req: IncomingMessage,
    res: ServerResponse,
    login: LoginResult,
    consent: ConsentResult,
  ): Promise<void> {
    const interaction = await this.details(req);
    await this.#record({ kind: 'finishLoginAndConsent', uid: interaction.uid, login, consent });
    this.interactions.delete(interaction.uid);
    this.#redirect(res, `https://tpp.example/cb?code=test-code`);
  }

  async abort(req: IncomingMessage, res: ServerResponse, error: string, description: string): Promise<void> {
    const interaction = await this.details(req);
    await this.#record({ kind: 'abort', uid: interaction.uid, error, description });
    this.interactions.delete(interaction.uid);
    this.#redirect(res, `https://tpp.example/cb?error=${encodeURIComponent(error)}`);
  }
}
