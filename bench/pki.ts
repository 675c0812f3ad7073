/**
 * PKI throughput, each as a ratio to raw RSA-2048 signatures/s measured in the same run:
 *   - certificates issued/s (QWAC profile with PSD2 QCStatements, for an existing public key: the CSR
 *     path after its checks; signed by the 3072-bit issuing CA);
 *   - OCSP answers/s (parse request, look up, build and sign a basic response).
 * Run: PATH=$PWD/node_modules/.bin:$PATH node bench/pki.ts   (about 20 s; BENCH_SECONDS scales it)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  answerOcsp,
  buildOcspRequest,
  generateRsaKeyPair,
  issueProfileCertificate,
  issueProfileCertificateWithNewKey,
  loadOrCreateSandboxAuthorities,
  sandboxNca,
  type OcspResponderConfig,
} from '../src/pki/index.ts';
import { closedLoop } from './support/index.ts';

const phaseSeconds = Number(process.env.BENCH_SECONDS ?? '4');
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? '1');

async function rate(label: string, operation: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 3; i++) await operation(); // warm up
  const { done, perSecond } = await closedLoop(concurrency, phaseSeconds, operation);
  console.log(`${label.padEnd(44)} ${perSecond.toFixed(1).padStart(9)} /s   (${done} in ${phaseSeconds}s)`);
  return perSecond;
}

const dir = await mkdtemp(join(tmpdir(), 'obkit-bench-pki-'));
try {
  const setupStart = performance.now();
  const authorities = await loadOrCreateSandboxAuthorities(join(dir, 'ca'));
  const subject = {
    softwareId: 'BenchSoftware01',
    orgId: '0015800001041REAAY',
    organizationName: 'Bench Payments Ltd',
    organizationIdentifier: 'PSDGB-FCA-123456',
  };
  const tppKeys = await generateRsaKeyPair();
  const leaf = await issueProfileCertificateWithNewKey(authorities.issuing, { profile: 'obwac', subject });
  const request = await buildOcspRequest(leaf.certificate, authorities.issuing.certificate);
  const responder: OcspResponderConfig = { issuer: authorities.issuing };
  console.log(
    `setup (CA hierarchy, keys): ${((performance.now() - setupStart) / 1000).toFixed(1)} s; concurrency ${concurrency}`,
  );

  const data = crypto.getRandomValues(new Uint8Array(1024));
  const rsa2048 = await generateRsaKeyPair(2048);
  const rsa3072 = await generateRsaKeyPair(3072);
  const sign = (keys: Awaited<ReturnType<typeof generateRsaKeyPair>>) => () =>
    crypto.subtle.sign('RSASSA-PKCS1-v1_5', keys.privateKey, data);
  const raw2048 = await rate('raw RSA-2048 signatures (baseline)', sign(rsa2048));
  const raw3072 = await rate('raw RSA-3072 signatures (issuing CA key size)', sign(rsa3072));
  const issued = await rate('certificates issued (QWAC, CA signs with 3072)', () =>
    issueProfileCertificate(
      authorities.issuing,
      { profile: 'qwac', subject, roles: ['PSP_AI', 'PSP_PI'], nca: sandboxNca },
      tppKeys.publicKey,
      'rsa',
    ),
  );
  const answered = await rate('OCSP answers (signed by the issuing CA)', () =>
    answerOcsp(request.der, () => ({ status: 'good' }), responder),
  );

  console.log('');
  console.log(`certificates issued/s ÷ RSA-2048 signatures/s = ${(issued / raw2048).toFixed(3)}`);
  console.log(`OCSP answers/s        ÷ RSA-2048 signatures/s = ${(answered / raw2048).toFixed(3)}`);
  console.log(
    `(RSA-3072 ÷ RSA-2048 signatures/s = ${(raw3072 / raw2048).toFixed(3)}: the CA key size alone bounds both ratios)`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
