import assert from 'node:assert/strict';
import { connect } from 'node:tls';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { clientCredentialsToken } from '../../src/tpp/authorization.ts';
import { aisGet, authorise } from '../journey/ais-support.ts';
import {
  assertRefused,
  hostileCorpus,
  RAW_HEADER_CASES,
  type HostileCase,
  rowCounts,
} from '../support/hostile.ts';
import { startSandbox } from '../support/journey.ts';
import { ERROR_LEVEL, httpsClient, logCapture } from '../support/platform.ts';

/**
 * The hostile-input corpus (test/support/hostile.ts) against the whole sandbox: every case is refused in
 * its family's error format, none answers 5xx or leaks internals, nothing is written to any table, and
 * nothing is logged at error level (every 5xx would be).
 */
describe('hostile input, everywhere', async () => {
  const logs = logCapture();
  const sandbox = await startSandbox({ logTo: logs });
  const { platform } = sandbox;
  const tpp = await sandbox.tpp('hostile-tpp', ['AISP']);
  const consent = await authorise(sandbox, tpp, {
    permissions: [
      'ReadAccountsBasic',
      'ReadTransactionsDetail',
      'ReadTransactionsCredits',
      'ReadTransactionsDebits',
      'ReadStatementsDetail',
    ],
  });
  const accounts = await aisGet(tpp, consent.accessToken, '/accounts');
  assert.equal(accounts.status, 200, accounts.text);
  const accountId = (accounts.json as { Data: { Account: { AccountId: string }[] } }).Data.Account[0]!
    .AccountId;
  const clientToken = (await clientCredentialsToken(tpp.bank, 'accounts')).access_token;

  const mtlsAgent = httpsClient([sandbox.rootPem], {
    certificatePem: `${tpp.bundle.transportCertificatePem}\n${tpp.bundle.caChainPem}`,
    privateKeyPem: tpp.bundle.transportKeyPem,
  });
  const browserAgent = httpsClient([sandbox.rootPem]);

  async function send(entry: HostileCase) {
    const base = entry.listener === 'mtls' ? platform.urls.mtls : platform.urls.browser;
    const token =
      entry.token === 'psu' ? consent.accessToken : entry.token === 'client' ? clientToken : undefined;
    const response = await request(`${base}${entry.path}`, {
      dispatcher: entry.listener === 'mtls' ? mtlsAgent : browserAgent,
      method: entry.method,
      headers: {
        'x-fapi-financial-id': '0015800001041RHAAY',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...entry.headers,
      },
      ...(entry.body !== undefined ? { body: entry.body } : {}),
    });
    return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
  }

  const corpus = hostileCorpus(accountId);
  const before = await rowCounts(platform.store);
  const errorsBefore = logs.lines.filter((line) => line.level >= ERROR_LEVEL).length;

  for (const [family, cases] of Object.entries(corpus)) {
    it(`${family}: ${cases.length} hostile requests, each refused in the family's format`, async () => {
      const failures: string[] = [];
      for (const entry of cases) {
        try {
          const answer = await send(entry);
          assertRefused(answer, entry.family, entry.name);
          if (entry.status)
            assert.equal(answer.status, entry.status, `${entry.name}: ${answer.text.slice(0, 200)}`);
        } catch (error) {
          failures.push((error as Error).message.split('\n')[0] ?? '');
        }
      }
      assert.deepEqual(failures, []);
    });
  }

  it('raw hostile headers: a readable 4xx in the OB error format with an interaction id', async () => {
    const { hostname, port } = new URL(platform.urls.mtls);
    for (const entry of RAW_HEADER_CASES) {
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = connect({
          host: hostname,
          port: Number(port),
          servername: 'localhost',
          ca: [sandbox.rootPem],
          cert: `${tpp.bundle.transportCertificatePem}\n${tpp.bundle.caChainPem}`,
          key: tpp.bundle.transportKeyPem,
        });
        const chunks: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
        socket.on('error', reject);
        socket.on('secureConnect', () =>
          socket.write(
            `GET /open-banking/v3.1/aisp/accounts HTTP/1.1\r\nhost: localhost\r\n${entry.head}\r\n`,
          ),
        );
      });
      const [head = '', body = ''] = raw.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
      const headers = Object.fromEntries(
        head
          .split('\r\n')
          .slice(1)
          .map((line) => [
            line.slice(0, line.indexOf(':')).toLowerCase(),
            line.slice(line.indexOf(':') + 1).trim(),
          ]),
      );
      assert.equal(status, entry.status, `${entry.name}: ${raw.slice(0, 300)}`);
      assert.match(String(headers['x-fapi-interaction-id']), /^[0-9a-f-]{36}$/, entry.name);
      assertRefused({ status, headers, text: body }, 'ob', entry.name);
      // Said in the log under the id the client was given, below error level: the client's mistake.
      const logged = logs.lines.filter((line) => line.interactionId === headers['x-fapi-interaction-id']);
      assert.ok(logged.length > 0 && logged.every((line) => line.level < ERROR_LEVEL), entry.name);
    }
  });

  it('wrote nothing: every table has the rows it had before the corpus', async () => {
    assert.deepEqual(await rowCounts(platform.store), before);
  });

  it('logged nothing at error level (a 5xx would be)', () => {
    const errors = logs.lines.filter((line) => line.level >= ERROR_LEVEL).slice(errorsBefore);
    assert.deepEqual(errors, []);
  });
});
