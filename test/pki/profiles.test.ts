import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import {
  PkiInputError,
  issueClientCertificate,
  issueProfileCertificateWithNewKey,
  obRoleOfPsd2Role,
  parseParticipantCertificate,
  psd2RolesOfObRoles,
  psd2Roles,
  sandboxNca,
  x509,
  type Psd2Role,
} from '../../src/pki/index.ts';
import { acme, pkiFixture, type PkiFixture } from './helpers.ts';

describe('certificate profiles and parsing them back', () => {
  let pki: PkiFixture;
  before(async () => {
    pki = await pkiFixture();
  });

  const roleSets: Psd2Role[][] = [
    ['PSP_AS'],
    ['PSP_PI'],
    ['PSP_AI'],
    ['PSP_IC'],
    ['PSP_AI', 'PSP_PI', 'PSP_IC'],
    [...psd2Roles],
  ];
  for (const roles of roleSets) {
    it(`a QWAC issued with ${roles.join('+')} parses back to exactly those roles`, async () => {
      const issued = await issueProfileCertificateWithNewKey(pki.issuer, {
        profile: 'qwac',
        subject: acme,
        roles,
        nca: sandboxNca,
      });
      const info = parseParticipantCertificate(issued.certificatePem);
      assert.deepEqual(info.roles, roles);
      assert.deepEqual(info.nca, { name: 'Financial Conduct Authority', id: 'GB-FCA' });
      assert.equal(info.profile, 'qwac');
      assert.equal(info.usage, 'transport');
      assert.equal(info.qualified, true);
    });
  }

  it('parses identity, profile and usage of every profile, from PEM, DER and node X509Certificate', async () => {
    const expectations = [
      {
        request: { profile: 'obwac', subject: acme },
        usage: 'transport',
        roles: undefined,
        qualified: false,
      },
      {
        request: { profile: 'qsealc', subject: acme, roles: ['PSP_AI'], nca: sandboxNca },
        usage: 'signing',
        roles: ['PSP_AI'],
        qualified: true,
      },
      { request: { profile: 'obseal', subject: acme }, usage: 'signing', roles: undefined, qualified: false },
      {
        request: { profile: 'encryption', subject: acme },
        usage: 'encryption',
        roles: undefined,
        qualified: false,
      },
    ] as const;
    for (const { request, usage, roles, qualified } of expectations) {
      const issued = await issueProfileCertificateWithNewKey(pki.issuer, request);
      for (const input of [
        issued.certificatePem,
        new Uint8Array(issued.certificate.rawData),
        new X509Certificate(issued.certificatePem),
      ]) {
        const info = parseParticipantCertificate(input);
        assert.equal(info.profile, request.profile);
        assert.equal(info.usage, usage);
        assert.deepEqual(info.roles, roles);
        assert.equal(info.qualified, qualified);
        assert.equal(info.softwareId, acme.softwareId);
        assert.equal(info.orgId, acme.orgId);
        assert.equal(info.organizationName, acme.organizationName);
        assert.equal(info.organizationIdentifier, acme.organizationIdentifier);
        assert.equal(info.serialNumber, issued.certificate.serialNumber.toLowerCase());
        assert.match(
          info.subjectDn,
          /^CN=Soft1234ABCD,OU=0015800001041REAAY,2\.5\.4\.97=#[0-9a-f]+,O=Acme Payments Ltd,C=GB$/,
        );
      }
    }
  });

  it('gives x5t#S256 as the base64url SHA-256 of the DER', async () => {
    const issued = await issueProfileCertificateWithNewKey(pki.issuer, { profile: 'obwac', subject: acme });
    const hex = new X509Certificate(issued.certificatePem).fingerprint256.replaceAll(':', '');
    assert.equal(
      parseParticipantCertificate(issued.certificatePem).thumbprintS256,
      Buffer.from(hex, 'hex').toString('base64url'),
    );
  });

  it('sets key usages and EKUs per profile, validity, and revocation pointers from the issuer', async () => {
    const flags = x509.KeyUsageFlags;
    const cases = [
      ['obwac', flags.digitalSignature | flags.keyEncipherment, ['1.3.6.1.5.5.7.3.2', '1.3.6.1.5.5.7.3.1']],
      ['obseal', flags.digitalSignature | flags.nonRepudiation, undefined],
      ['encryption', flags.keyEncipherment | flags.dataEncipherment, undefined],
    ] as const;
    for (const [profile, keyUsage, ekus] of cases) {
      const issued = await issueProfileCertificateWithNewKey(pki.issuer, {
        profile,
        subject: acme,
        validityDays: 30,
      });
      const certificate = issued.certificate;
      assert.equal(certificate.getExtension(x509.KeyUsagesExtension)?.usages, keyUsage, profile);
      const usages = certificate.getExtension(x509.ExtendedKeyUsageExtension)?.usages;
      assert.deepEqual(usages ? [...usages] : undefined, ekus, profile);
      assert.equal(certificate.getExtension(x509.BasicConstraintsExtension)?.ca, false);
      const days = (certificate.notAfter.getTime() - certificate.notBefore.getTime()) / 86_400_000;
      assert.ok(days > 30 && days < 30.01, `validity ${days} days`);
      assert.deepEqual(
        certificate.getExtension(x509.AuthorityInfoAccessExtension)?.ocsp.map((n) => n.value),
        ['http://ocsp.directory.test/ocsp'],
      );
      assert.ok(certificate.getExtension(x509.CRLDistributionPointsExtension));
    }
    const plain = await issueProfileCertificateWithNewKey(pki.authorities.issuing, {
      profile: 'obwac',
      subject: acme,
    });
    assert.equal(
      plain.certificate.getExtension(x509.AuthorityInfoAccessExtension),
      null,
      'no endpoints configured: no AIA',
    );
  });

  it('classifies a certificate of another kind as unknown, without roles', async () => {
    const client = await issueClientCertificate(pki.issuer, { commonName: 'ops' });
    const info = parseParticipantCertificate(client.certificatePem);
    assert.equal(info.profile, 'obwac', 'a clientAuth certificate reads as a transport certificate');
    assert.equal(info.roles, undefined);
    const ca = parseParticipantCertificate(pki.authorities.issuing.certificatePem);
    assert.equal(ca.profile, 'unknown');
    assert.equal(ca.softwareId, 'obkit Sandbox Issuing CA');
  });

  const invalid: [string, () => Parameters<typeof issueProfileCertificateWithNewKey>[1], RegExp][] = [
    [
      'an unknown role',
      () => ({ profile: 'qwac', subject: acme, roles: ['PSP_XX' as Psd2Role], nca: sandboxNca }),
      /unknown PSD2 role "PSP_XX"; expected PSP_AS, PSP_PI, PSP_AI, PSP_IC/,
    ],
    [
      'no roles on a QWAC',
      () => ({ profile: 'qwac', subject: acme, roles: [], nca: sandboxNca }),
      /at least one PSD2 role is required/,
    ],
    [
      'repeated roles',
      () => ({ profile: 'qsealc', subject: acme, roles: ['PSP_AI', 'PSP_AI'], nca: sandboxNca }),
      /repeated/,
    ],
    [
      'an organisation identifier of another NCA',
      () => ({
        profile: 'qwac',
        subject: { ...acme, organizationIdentifier: 'PSDDE-BAFIN-1' },
        roles: ['PSP_AI'],
        nca: sandboxNca,
      }),
      /does not name the NCA "GB-FCA"/,
    ],
    [
      'a malformed organisation identifier',
      () => ({ profile: 'obwac', subject: { ...acme, organizationIdentifier: 'FCA 123' } }),
      /does not follow ETSI EN 319 412-1/,
    ],
    [
      'an empty software id',
      () => ({ profile: 'obwac', subject: { ...acme, softwareId: ' ' } }),
      /the software id is required/,
    ],
    [
      'an overlong org id',
      () => ({ profile: 'obwac', subject: { ...acme, orgId: 'x'.repeat(65) } }),
      /the organisation id is longer than 64 characters/,
    ],
    [
      'a bad country',
      () => ({ profile: 'obwac', subject: { ...acme, countryName: 'gbr' } }),
      /country "gbr" is not an ISO 3166 two-letter code/,
    ],
    [
      'an unknown profile',
      () => ({ profile: 'qseal' as 'obseal', subject: acme }),
      /unknown certificate profile "qseal"/,
    ],
    [
      'a validity of 0 days',
      () => ({ profile: 'obwac', subject: acme, validityDays: 0 }),
      /validity must be a whole number of days/,
    ],
  ];
  for (const [label, request, message] of invalid) {
    it(`refuses ${label}`, async () => {
      await assert.rejects(issueProfileCertificateWithNewKey(pki.issuer, request()), (error: unknown) => {
        assert.ok(error instanceof PkiInputError, String(error));
        assert.equal(error.code, 'profile.invalid');
        assert.match(error.message, message);
        return true;
      });
    });
  }

  it('maps Open Banking roles to PSD2 roles and back, refusing unknown ones', () => {
    assert.deepEqual(psd2RolesOfObRoles(['AISP', 'PISP', 'CBPII', 'ASPSP']), [
      'PSP_AI',
      'PSP_PI',
      'PSP_IC',
      'PSP_AS',
    ]);
    assert.deepEqual(psd2Roles.map(obRoleOfPsd2Role), ['ASPSP', 'PISP', 'AISP', 'CBPII']);
    assert.throws(
      () => psd2RolesOfObRoles(['AISP', 'TPP']),
      /unknown role "TPP"; expected AISP, PISP, CBPII, ASPSP/,
    );
    assert.throws(() => psd2RolesOfObRoles([]), /at least one PSD2 role is required/);
  });

  it('refuses to parse garbage with a clear error', () => {
    assert.throws(
      () => parseParticipantCertificate('nope'),
      /expected a PEM "-----BEGIN CERTIFICATE-----" block/,
    );
    assert.throws(
      () => parseParticipantCertificate(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01])),
      /not an X.509 certificate/,
    );
    assert.throws(() => parseParticipantCertificate(new Uint8Array([0x30, 0x05, 0x02])), /not valid DER/);
  });
});
