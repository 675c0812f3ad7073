import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { and, eq, sql } from 'drizzle-orm';
import pg from 'pg';
import { authModels } from '../../src/store/schema/auth.ts';
import { recordStatements } from '../support/statements.ts';
import { startHarness, type Harness, type Tpp } from './harness.ts';

/**
 * A client assertion authenticates its client once, at every endpoint; at the token endpoint with
 * `client_credentials` its `jti` record and the token go in one statement (src/auth/assertion-replays.ts).
 */
describe('client assertion replays at the token endpoint', async () => {
  const h: Harness = await startHarness();

  function tokenForm(assertion: string, scope = 'accounts'): Record<string, string> {
    return {
      grant_type: 'client_credentials',
      scope,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    };
  }

  async function tokenRows(tpp: Tpp): Promise<number> {
    const rows = await h.store.db
      .select({ id: authModels.id, payload: authModels.payload })
      .from(authModels)
      .where(and(eq(authModels.model, 'ClientCredentials')));
    return rows.filter((row) => (row.payload as { clientId?: unknown }).clientId === tpp.clientId).length;
  }

  it('records the assertion and saves the token in one statement', async () => {
    const { a } = h.tpps;
    assert.equal((await h.clientCredentials(a)).status, 200); // warm: the client is known
    const { result, statements } = await recordStatements(() => h.clientCredentials(a));
    assert.equal(result.status, 200, result.body);
    const writes = statements.filter((text) => /insert\s+into\s+"?auth_models"?/i.test(text));
    assert.equal(writes.length, 1, `auth_models writes:\n${writes.join('\n')}`);
    assert.match(writes[0]!, /with "?replay"? as/i);
  });

  it(
    'sends a request alone as one named statement on PostgreSQL (parsed and planned once per connection)',
    {
      skip: !process.env.DATABASE_URL,
    },
    async () => {
      const { a } = h.tpps;
      assert.equal((await h.clientCredentials(a)).status, 200);
      const names = await statementNames(/auth_models/, async () => {
        for (let i = 0; i < 2; i++) assert.equal((await h.clientCredentials(a)).status, 200);
      });
      assert.deepEqual(names, ['auth_replay_with_token', 'auth_replay_with_token']);
    },
  );

  it(
    'sends requests under way together as one named statement too, whatever their number, each token saved',
    { skip: !process.env.DATABASE_URL },
    async () => {
      const { a } = h.tpps;
      assert.equal((await h.clientCredentials(a)).status, 200);
      const before = await tokenRows(a);
      let sent = 0;
      const names = await statementNames(/insert\s+into\s+"?auth_models"?/i, async () => {
        // Eight at once share a statement as soon as one is under way; a few rounds make sure one did.
        for (let round = 0; round < 5; round++) {
          const answers = await Promise.all(Array.from({ length: 8 }, () => h.clientCredentials(a)));
          for (const answer of answers) assert.equal(answer.status, 200, answer.body);
          sent += answers.length;
        }
      });
      assert.ok(names.includes('auth_replays_with_tokens'), `statements: ${names.join(', ')}`);
      assert.deepEqual(
        names.filter((name) => name !== 'auth_replay_with_token' && name !== 'auth_replays_with_tokens'),
        [],
      );
      assert.equal(await tokenRows(a), before + sent);
    },
  );

  it(
    'sends a request alone as one named statement of the embedded database: parsed and planned once, one protocol message a token',
    { skip: Boolean(process.env.DATABASE_URL) },
    async () => {
      const { a } = h.tpps;
      const embedded = h.store.embedded!;
      assert.equal((await h.clientCredentials(a)).status, 200);
      const messages: number[] = [];
      for (let i = 0; i < 2; i++) {
        const before = embedded.writeCount();
        assert.equal((await h.clientCredentials(a)).status, 200);
        messages.push(embedded.writeCount() - before);
      }
      // PGlite's `query` sends six (Parse, Describe, Bind, Describe, Execute, Sync), and parses every time.
      assert.deepEqual(messages, [1, 1], 'protocol messages written per token');
      const prepared = await h.store.db.execute(
        sql`select name from pg_prepared_statements where statement like '%"replay"%'`,
      );
      assert.equal((prepared as unknown as { rows: unknown[] }).rows.length, 1, 'the token statement, named');
    },
  );

  it('refuses a replayed assertion with invalid_client and saves no token for it', async () => {
    const { a } = h.tpps;
    const assertion = await h.clientAssertion(a);
    const before = await tokenRows(a);
    const first = await h.post(a.agent, `${h.mtlsUrl}/token`, tokenForm(assertion));
    assert.equal(first.status, 200, first.body);
    const again = await h.post(a.agent, `${h.mtlsUrl}/token`, tokenForm(assertion));
    assert.equal(again.status, 401, again.body);
    assert.equal(again.json['error'], 'invalid_client');
    assert.equal(await tokenRows(a), before + 1);
  });

  it('of concurrent uses of one assertion exactly one gets a token', async () => {
    const { a } = h.tpps;
    const assertion = await h.clientAssertion(a);
    const before = await tokenRows(a);
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => h.post(a.agent, `${h.mtlsUrl}/token`, tokenForm(assertion))),
    );
    assert.deepEqual(answers.map((answer) => answer.status).sort(), [200, 401, 401, 401, 401]);
    assert.equal(await tokenRows(a), before + 1);
  });

  it('an assertion used at another endpoint is refused at the token endpoint', async () => {
    const { a } = h.tpps;
    const assertion = await h.clientAssertion(a);
    const introspection = await h.post(a.agent, `${h.mtlsUrl}/token/introspection`, {
      token: 'unknown',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    });
    assert.equal(introspection.status, 200, introspection.body);
    const token = await h.post(a.agent, `${h.mtlsUrl}/token`, tokenForm(assertion));
    assert.equal(token.status, 401, token.body);
    assert.equal(token.json['error'], 'invalid_client');
  });

  it('a request refused after authentication still uses up its assertion; its replay is invalid_client', async () => {
    const { a } = h.tpps;
    const assertion = await h.clientAssertion(a);
    // A scope with a character RFC 6749 §3.3 does not allow: refused once the client is authenticated.
    const badScope = 'accounts"';
    const refused = await h.post(a.agent, `${h.mtlsUrl}/token`, tokenForm(assertion, badScope));
    assert.equal(refused.status, 400, refused.body);
    assert.equal(refused.json['error'], 'invalid_scope');
    for (const scope of ['accounts', badScope]) {
      const again = await h.post(a.agent, `${h.mtlsUrl}/token`, tokenForm(assertion, scope));
      assert.equal(again.status, 401, again.body);
      assert.equal(again.json['error'], 'invalid_client');
    }
  });
});

/**
 * The names of the statements sent to PostgreSQL whose text matches `pattern` while `work` runs, in order
 * (undefined: sent unnamed, parsed and planned on every call).
 */
async function statementNames(pattern: RegExp, work: () => Promise<void>): Promise<unknown[]> {
  const names: unknown[] = [];
  const prototype = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const query = prototype.query;
  prototype.query = function (this: unknown, ...args: unknown[]) {
    const [config] = args;
    const text = typeof config === 'string' ? config : (config as { text?: unknown } | null)?.text;
    if (pattern.test(String(text)))
      names.push(
        typeof config === 'object' && config !== null ? (config as { name?: unknown }).name : undefined,
      );
    return query.apply(this, args);
  };
  try {
    await work();
  } finally {
    prototype.query = query;
  }
  return names;
}
