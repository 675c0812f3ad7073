import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadOrCreateSandboxAuthorities } from '../../src/pki/index.ts';
import { messageSigningTrustAnchor } from '../../src/server/bank-identity.ts';
import { ConfigError, loadConfig } from '../../src/server/config.ts';
import { runCli } from '../support/cli.ts';

describe('configuration', () => {
  it('has working defaults', () => {
    const config = loadConfig({ env: {} });
    assert.equal(config.browserPort, 8443);
    assert.equal(config.mtlsPort, 8444);
    assert.equal(config.operatorBindHost, '127.0.0.1');
    assert.equal(config.operatorPort, 8445);
    assert.equal(config.mtlsMode, 'direct');
    assert.equal(config.clientCertHeader, 'client-cert');
    assert.equal(config.revocationFailClosed, true);
  });

  it('reads the environment and a JSON file, the environment winning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'obkit-config-'));
    const file = join(dir, 'obkit.json');
    writeFileSync(file, JSON.stringify({ browserPort: 9000, mtlsPort: 9001, logLevel: 'debug' }));
    const config = loadConfig({ env: { OBKIT_CONFIG: file, OBKIT_MTLS_PORT: '9443' } });
    assert.equal(config.browserPort, 9000);
    assert.equal(config.mtlsPort, 9443);
    assert.equal(config.logLevel, 'debug');
  });

  it('names the key and the allowed values of a bad value', () => {
    assert.throws(
      () => loadConfig({ env: { OBKIT_MTLS_MODE: 'sideways' } }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /OBKIT_MTLS_MODE \(mtlsMode\): must be one of "direct", "proxy"; got "sideways"/.test(error.message),
    );
    assert.throws(
      () => loadConfig({ env: { OBKIT_BROWSER_PORT: '70000' } }),
      /OBKIT_BROWSER_PORT \(browserPort\): must be at most 65535/,
    );
    assert.throws(
      () => loadConfig({ env: { OBKIT_TRUSTED_PROXIES: '10.0.0.0/33' } }),
      /OBKIT_TRUSTED_PROXIES/,
    );
    assert.throws(
      () => loadConfig({ env: { DATABASE_URL: 'mysql://x' } }),
      /DATABASE_URL \(databaseUrl\): a postgres:\/\//,
    );
  });

  it('refuses proxy mode without a trusted proxy, and unknown keys in the file', () => {
    assert.throws(() => loadConfig({ env: { OBKIT_MTLS_MODE: 'proxy' } }), /OBKIT_TRUSTED_PROXIES/);
    const dir = mkdtempSync(join(tmpdir(), 'obkit-config-'));
    const file = join(dir, 'obkit.json');
    writeFileSync(file, JSON.stringify({ browserPortt: 1 }));
    assert.throws(() => loadConfig({ env: { OBKIT_CONFIG: file } }), /browserPortt in .*unknown key/);
    writeFileSync(file, '{ not json');
    assert.throws(() => loadConfig({ env: { OBKIT_CONFIG: file } }), /not valid JSON/);
  });

  it('makes the CLI exit 2 naming the key, with nothing written to the data directory', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'obkit-config-'));
    const dataDir = join(parent, 'data');
    const result = await runCli(['sandbox'], { OBKIT_DATA_DIR: dataDir, OBKIT_MTLS_PORT: 'eight' });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /OBKIT_MTLS_PORT \(mtlsPort\): must be a number; got "eight"/);
    assert.equal(existsSync(dataDir), false);
    assert.deepEqual(readdirSync(parent), []);
  });

  it('makes the CLI exit 2 on an unknown part', async () => {
    const result = await runCli(['serve', 'no-such-part'], {
      OBKIT_DATA_DIR: mkdtempSync(join(tmpdir(), 'obkit-x-')),
    });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown part "no-such-part"/);
  });
});

describe('configuration of a bank (production keys)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'obkit-bank-config-'));
  const authorities = await loadOrCreateSandboxAuthorities(join(dir, 'ca'));
  const caFile = join(dir, 'issuing-ca.pem');
  writeFileSync(caFile, authorities.issuing.certificatePem);
  const rsaKeyFile = join(dir, 'signing.key.pem');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(rsaKeyFile, rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const directories = [
    { issuer: 'OpenBanking Ltd', jwksUri: 'https://keystore.example/openbanking.jwks' },
    { issuer: 'Other Directory', jwksUri: 'https://other.example/jwks' },
  ];
  const signing = {
    OBKIT_SIGNING_KEY_FILE: rsaKeyFile,
    OBKIT_SIGNING_KID: 'kid-1',
    OBKIT_SIGNING_ISSUER: 'org-1/software-1',
  };
  const configProblem = (env: Record<string, string>, pattern: RegExp) =>
    assert.throws(
      () => loadConfig({ env }),
      (error: unknown) => error instanceof ConfigError && pattern.test(error.message),
    );

  it('reads every key from the environment', () => {
    const config = loadConfig({
      env: {
        OBKIT_TRUSTED_DIRECTORIES: JSON.stringify(directories),
        OBKIT_DIRECTORY_AUDIENCES: 'bank-org, bank-software',
        OBKIT_TRANSPORT_CA_FILES: caFile,
        ...signing,
        OBKIT_SIGNING_TRUST_ANCHOR: 'directory.example',
        OBKIT_JWKS_CA_FILES: `${caFile},${caFile}`,
        OBKIT_SCHEDULER_INTERVAL_MS: '5000',
      },
    });
    assert.deepEqual(config.trustedDirectories, directories);
    assert.deepEqual(config.directoryAudiences, ['bank-org', 'bank-software']);
    assert.deepEqual(config.transportCaFiles, [caFile]);
    assert.equal(config.signingKeyFile, rsaKeyFile);
    assert.equal(config.signingKid, 'kid-1');
    assert.equal(config.signingIssuer, 'org-1/software-1');
    assert.equal(config.signingTrustAnchor, 'directory.example');
    assert.deepEqual(config.jwksCaFiles, [caFile, caFile]);
    assert.equal(config.schedulerIntervalMs, 5000);
  });

  it('reads every key from the JSON file, with lists as lists', () => {
    const file = join(dir, 'bank.json');
    writeFileSync(
      file,
      JSON.stringify({
        sandbox: false,
        trustedDirectories: directories,
        directoryAudiences: ['bank-org'],
        transportCaFiles: [caFile],
        signingKeyFile: rsaKeyFile,
        signingKid: 'kid-2',
        signingIssuer: 'org-2',
        jwksCaFiles: [caFile],
        schedulerIntervalMs: 30_000,
      }),
    );
    const config = loadConfig({ env: { OBKIT_CONFIG: file } });
    assert.equal(config.sandbox, false);
    assert.deepEqual(config.trustedDirectories, directories);
    assert.deepEqual(config.directoryAudiences, ['bank-org']);
    assert.deepEqual(config.transportCaFiles, [caFile]);
    assert.equal(config.signingKeyFile, rsaKeyFile);
    assert.equal(config.signingKid, 'kid-2');
    assert.equal(config.signingIssuer, 'org-2');
    assert.equal(config.signingTrustAnchor, undefined);
    assert.equal(
      messageSigningTrustAnchor(config, 'https://bank.example:8443'),
      'openbanking.org.uk',
      'the live ecosystem by default',
    );
    assert.deepEqual(config.jwksCaFiles, [caFile]);
    assert.equal(config.schedulerIntervalMs, 30_000);
  });

  it('has defaults that configure nothing of a bank', () => {
    const config = loadConfig({ env: {} });
    assert.deepEqual(config.trustedDirectories, []);
    assert.deepEqual(config.directoryAudiences, []);
    assert.equal(config.signingKeyFile, undefined);
    assert.equal(config.schedulerIntervalMs, 60_000);
  });

  it('names a bad trusted directory and what is allowed', () => {
    configProblem(
      { OBKIT_TRUSTED_DIRECTORIES: 'OpenBanking Ltd' },
      /OBKIT_TRUSTED_DIRECTORIES \(trustedDirectories\): must be a JSON list such as \[\{"issuer"/,
    );
    configProblem(
      { OBKIT_TRUSTED_DIRECTORIES: JSON.stringify([{ issuer: 'x', jwksUri: 'http://x.example/jwks' }]) },
      /OBKIT_TRUSTED_DIRECTORIES \(trustedDirectories\): at \[0\]\.jwksUri: an https:\/\/ URL/,
    );
    configProblem(
      { OBKIT_TRUSTED_DIRECTORIES: JSON.stringify([{ jwksUri: 'https://x.example/jwks' }]) },
      /OBKIT_TRUSTED_DIRECTORIES \(trustedDirectories\): at \[0\]\.issuer: /,
    );
  });

  it('refuses a partial signing identity, naming each missing key', () => {
    configProblem(
      { OBKIT_SIGNING_KEY_FILE: rsaKeyFile },
      /OBKIT_SIGNING_KID \(signingKid\): missing;[^\n]*\n\s*OBKIT_SIGNING_ISSUER \(signingIssuer\): missing/,
    );
    configProblem(
      { OBKIT_SIGNING_KID: 'kid-1', OBKIT_SIGNING_ISSUER: 'org/software' },
      /OBKIT_SIGNING_KEY_FILE \(signingKeyFile\): missing; .*set: OBKIT_SIGNING_KID \(signingKid\), OBKIT_SIGNING_ISSUER/,
    );
  });

  it("takes the bank's iss in the form its trust anchor defines: under openbanking.org.uk, the org id alone", () => {
    const production = { ...signing, OBKIT_SANDBOX: 'false' };
    configProblem(
      { ...production, OBKIT_SIGNING_ISSUER: 'org-1/software-1' },
      /OBKIT_SIGNING_ISSUER \(signingIssuer\): under the trust anchor openbanking\.org\.uk the bank's http:\/\/openbanking\.org\.uk\/iss is its organisation id alone .*got "org-1\/software-1"/,
    );
    configProblem(
      {
        ...production,
        OBKIT_SIGNING_ISSUER: 'org-1/software-1',
        OBKIT_SIGNING_TRUST_ANCHOR: 'openbanking.org.uk',
      },
      /OBKIT_SIGNING_ISSUER \(signingIssuer\): under the trust anchor openbanking\.org\.uk/,
    );
    assert.equal(
      loadConfig({ env: { ...production, OBKIT_SIGNING_ISSUER: 'org-1' } }).signingIssuer,
      'org-1',
    );
    // Another trust anchor defines its own form (an eIDAS QTSP's, a certificate subject): anything non-empty.
    const elsewhere = loadConfig({
      env: {
        ...production,
        OBKIT_SIGNING_ISSUER: 'CN=Bank, O=Bank plc, C=GB',
        OBKIT_SIGNING_TRUST_ANCHOR: 'directory.example',
      },
    });
    assert.equal(elsewhere.signingIssuer, 'CN=Bank, O=Bank plc, C=GB');
    assert.equal(messageSigningTrustAnchor(elsewhere, 'https://bank.example'), 'directory.example');
    configProblem(
      { OBKIT_SIGNING_TRUST_ANCHOR: 'open banking' },
      /OBKIT_SIGNING_TRUST_ANCHOR \(signingTrustAnchor\): a domain name/,
    );
  });

  it('signs in the sandbox under its own directory by default, or under the configured trust anchor', () => {
    assert.equal(
      messageSigningTrustAnchor(loadConfig({ env: {} }), 'https://localhost:8443'),
      'localhost:8443',
    );
    const configured = loadConfig({ env: { OBKIT_SIGNING_TRUST_ANCHOR: 'openbanking.org.uk' } });
    assert.equal(configured.sandbox, true);
    assert.equal(messageSigningTrustAnchor(configured, 'https://localhost:8443'), 'openbanking.org.uk');
  });

  it('refuses a signing key file it cannot read or that is not an RSA PKCS#8 key, naming the key', () => {
    configProblem(
      { ...signing, OBKIT_SIGNING_KEY_FILE: join(dir, 'missing.pem') },
      /OBKIT_SIGNING_KEY_FILE \(signingKeyFile\): cannot read .*missing\.pem/,
    );
    const ecFile = join(dir, 'ec.key.pem');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(ecFile, ec.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    configProblem(
      { ...signing, OBKIT_SIGNING_KEY_FILE: ecFile },
      /OBKIT_SIGNING_KEY_FILE \(signingKeyFile\): .*ec\.key\.pem holds a ec key; PS256 needs .*RSA/,
    );
    const pkcs1File = join(dir, 'pkcs1.key.pem');
    writeFileSync(pkcs1File, rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }));
    configProblem(
      { ...signing, OBKIT_SIGNING_KEY_FILE: pkcs1File },
      /OBKIT_SIGNING_KEY_FILE \(signingKeyFile\): .*pkcs1\.key\.pem must hold an unencrypted PKCS#8/,
    );
    configProblem(
      { ...signing, OBKIT_SIGNING_KEY_FILE: caFile },
      /OBKIT_SIGNING_KEY_FILE \(signingKeyFile\): .*must hold an unencrypted PKCS#8/,
    );
  });

  it('refuses CA files that hold no certificate, naming the key', () => {
    configProblem(
      { OBKIT_JWKS_CA_FILES: rsaKeyFile },
      /OBKIT_JWKS_CA_FILES \(jwksCaFiles\): .*signing\.key\.pem/,
    );
    configProblem(
      { OBKIT_TRANSPORT_CA_FILES: join(dir, 'missing.pem') },
      /OBKIT_TRANSPORT_CA_FILES \(transportCaFiles\): .*missing\.pem/,
    );
    configProblem(
      { OBKIT_SCHEDULER_INTERVAL_MS: '10' },
      /OBKIT_SCHEDULER_INTERVAL_MS \(schedulerIntervalMs\): must be at least 100/,
    );
  });

  it('refuses TLS files and trust anchors it cannot read or parse, naming the key', () => {
    configProblem(
      { OBKIT_TLS_CERT_FILE: join(dir, 'missing.pem'), OBKIT_TLS_KEY_FILE: rsaKeyFile },
      /OBKIT_TLS_CERT_FILE \(tlsCertFile\): .*missing\.pem.*server certificates/,
    );
    configProblem(
      { OBKIT_TLS_CERT_FILE: caFile, OBKIT_TLS_KEY_FILE: caFile },
      /OBKIT_TLS_KEY_FILE \(tlsKeyFile\): .*issuing-ca\.pem must be a readable, unencrypted PEM private key/,
    );
    configProblem(
      { OBKIT_TRUST_ANCHOR_FILES: `${caFile},${join(dir, 'nowhere.pem')}` },
      /OBKIT_TRUST_ANCHOR_FILES \(trustAnchorFiles\): .*nowhere\.pem/,
    );
    const config = loadConfig({ env: { OBKIT_TLS_CERT_FILE: caFile, OBKIT_TLS_KEY_FILE: rsaKeyFile } });
    assert.equal(config.tlsCertFile, caFile);
  });

  it('makes the CLI exit 2 on a partial signing identity, before anything is written', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'obkit-config-'));
    const dataDir = join(parent, 'data');
    const result = await runCli(['serve', 'bank', 'openbanking'], {
      OBKIT_DATA_DIR: dataDir,
      OBKIT_SANDBOX: 'false',
      OBKIT_SIGNING_KEY_FILE: rsaKeyFile,
      OBKIT_SIGNING_ISSUER: 'org/software',
    });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /OBKIT_SIGNING_KID \(signingKid\): missing/);
    assert.deepEqual(readdirSync(parent), []);
  });
});
