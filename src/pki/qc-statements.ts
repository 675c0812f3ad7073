import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { decodeDer } from './asn1.ts';
import { PkiInputError } from './errors.ts';
import { x509 } from './x509.ts';
import {
  isPsd2Role,
  obRoles,
  psd2RoleOfObRole,
  psd2Roles,
  type ObRole,
  type Psd2Role,
} from '../shared/psd2-roles.ts';

// The role names and what they grant are shared (src/shared/psd2-roles.ts); their encoding is ours.
export {
  isPsd2Role,
  obRoleOfPsd2Role,
  obRoles,
  psd2RoleOfObRole,
  psd2Roles,
  type ObRole,
  type Psd2Role,
} from '../shared/psd2-roles.ts';

/**
 * ETSI QCStatements (EN 319 412-5) with the PSD2 statement of ETSI TS 119 495:
 *
 *   PSD2QcType ::= SEQUENCE { rolesOfPSP RolesOfPSP, nCAName NCAName, nCAId NCAId }
 *   RolesOfPSP ::= SEQUENCE OF RoleOfPSP
 *   RoleOfPSP ::= SEQUENCE { roleOfPspOid RoleOfPspOid, roleOfPspName RoleOfPspName }
 *   RoleOfPspName, NCAName, NCAId ::= UTF8String (SIZE (1..256))
 */
export const qcOids = {
  extension: '1.3.6.1.5.5.7.1.3',
  compliance: '0.4.0.1862.1.1',
  type: '0.4.0.1862.1.6',
  typeEsign: '0.4.0.1862.1.6.1',
  typeEseal: '0.4.0.1862.1.6.2',
  typeWeb: '0.4.0.1862.1.6.3',
  pds: '0.4.0.1862.1.5',
  psd2: '0.4.0.19495.2',
} as const;

export const psd2RoleOids: Readonly<Record<Psd2Role, string>> = {
  PSP_AS: '0.4.0.19495.1.1',
  PSP_PI: '0.4.0.19495.1.2',
  PSP_AI: '0.4.0.19495.1.3',
  PSP_IC: '0.4.0.19495.1.4',
};

export type QcType = 'esign' | 'eseal' | 'web';
const qcTypeOids: Readonly<Record<QcType, string>> = {
  esign: qcOids.typeEsign,
  eseal: qcOids.typeEseal,
  web: qcOids.typeWeb,
};

/** The national competent authority that authorised the PSP, e.g. { name: 'Financial Conduct Authority', id: 'GB-FCA' }. */
export interface NationalCompetentAuthority {
  readonly name: string;
  readonly id: string;
}

export interface QcStatementsContent {
  readonly qcCompliance: boolean;
  readonly qcTypes: readonly QcType[];
  readonly psd2?: { readonly roles: readonly Psd2Role[]; readonly nca: NationalCompetentAuthority };
  /** PKI disclosure statement locations (QcPDS). */
  readonly pds?: readonly { readonly url: string; readonly language: string }[];
}

/** Checks a PSD2 roles list: non-empty, known, no duplicates. */
export function checkPsd2Roles(roles: readonly string[]): Psd2Role[] {
  if (roles.length === 0) throw new PkiInputError('profile.invalid', 'at least one PSD2 role is required');
  const unknown = roles.filter((role) => !isPsd2Role(role));
  if (unknown.length > 0) {
    throw new PkiInputError(
      'profile.invalid',
      `unknown PSD2 role${unknown.length > 1 ? 's' : ''} ${unknown.map((r) => JSON.stringify(r)).join(', ')}; expected ${psd2Roles.join(', ')}`,
    );
  }
  if (new Set(roles).size !== roles.length)
    throw new PkiInputError('profile.invalid', 'PSD2 roles are repeated');
  return roles as Psd2Role[];
}

function checkUtf8Field(label: string, value: string): string {
  if (value.length < 1 || value.length > 256) {
    throw new PkiInputError('profile.invalid', `${label} must be 1 to 256 characters long`);
  }
  return value;
}

/** The qcStatements extension (non-critical) carrying `content`. */
export function qcStatementsExtension(content: QcStatementsContent): x509.Extension {
  const statements: pkijs.QCStatement[] = [];
  if (content.qcCompliance) statements.push(new pkijs.QCStatement({ id: qcOids.compliance }));
  if (content.qcTypes.length > 0) {
    statements.push(
      new pkijs.QCStatement({
        id: qcOids.type,
        type: new asn1js.Sequence({
          value: content.qcTypes.map((type) => new asn1js.ObjectIdentifier({ value: qcTypeOids[type] })),
        }),
      }),
    );
  }
  if (content.pds && content.pds.length > 0) {
    statements.push(
      new pkijs.QCStatement({
        id: qcOids.pds,
        type: new asn1js.Sequence({
          value: content.pds.map(
            ({ url, language }) =>
              new asn1js.Sequence({
                value: [
                  new asn1js.IA5String({ value: url }),
                  new asn1js.PrintableString({ value: language }),
                ],
              }),
          ),
        }),
      }),
    );
  }
  if (content.psd2) {
    const roles = checkPsd2Roles(content.psd2.roles);
    statements.push(
      new pkijs.QCStatement({
        id: qcOids.psd2,
        type: new asn1js.Sequence({
          value: [
            new asn1js.Sequence({
              value: roles.map(
                (role) =>
                  new asn1js.Sequence({
                    value: [
                      new asn1js.ObjectIdentifier({ value: psd2RoleOids[role] }),
                      new asn1js.Utf8String({ value: role }),
                    ],
                  }),
              ),
            }),
            new asn1js.Utf8String({ value: checkUtf8Field('the NCA name', content.psd2.nca.name) }),
            new asn1js.Utf8String({ value: checkUtf8Field('the NCA id', content.psd2.nca.id) }),
          ],
        }),
      }),
    );
  }
  const sequence = new pkijs.QCStatements(); // (its constructor is mistyped in pkijs 4.0.0: set `values` after)
  sequence.values = statements;
  const der = sequence.toSchema().toBER();
  return new x509.Extension(qcOids.extension, false, der);
}

/** Reads the qcStatements extension of a certificate; undefined when it has none. */
export function readQcStatements(certificate: x509.X509Certificate): QcStatementsContent | undefined {
  const extension = certificate.getExtension(qcOids.extension);
  if (!extension) return undefined;
  const fail = (what: string): never => {
    throw new PkiInputError(
      'certificate.malformed',
      `the certificate's QCStatements extension is malformed: ${what}`,
    );
  };
  let statements: pkijs.QCStatements;
  try {
    statements = new pkijs.QCStatements({
      schema: decodeDer(extension.value, 'the QCStatements extension', 'certificate.malformed'),
    });
  } catch (error) {
    if (error instanceof PkiInputError) throw error;
    return fail('not a SEQUENCE OF QCStatement');
  }
  let qcCompliance = false;
  const qcTypes: QcType[] = [];
  let psd2: QcStatementsContent['psd2'];
  let pds: { url: string; language: string }[] | undefined;
  for (const statement of statements.values) {
    const info: unknown = statement.type;
    switch (statement.id) {
      case qcOids.compliance:
        qcCompliance = true;
        break;
      case qcOids.type:
        for (const item of sequenceItems(info) ?? fail('QcType is not a SEQUENCE')) {
          const oid =
            item instanceof asn1js.ObjectIdentifier ? item.getValue() : fail('QcType holds a non-OID');
          const type = (Object.keys(qcTypeOids) as QcType[]).find((key) => qcTypeOids[key] === oid);
          if (type) qcTypes.push(type);
        }
        break;
      case qcOids.pds:
        pds = (sequenceItems(info) ?? fail('QcPDS is not a SEQUENCE')).map((location) => {
          const [url, language] = sequenceItems(location) ?? fail('a PdsLocation is not a SEQUENCE');
          return {
            url: text(url) ?? fail('PdsLocation url'),
            language: text(language) ?? fail('PdsLocation language'),
          };
        });
        break;
      case qcOids.psd2: {
        const [rolesOfPsp, ncaName, ncaId] = sequenceItems(info) ?? fail('PSD2QcType is not a SEQUENCE');
        const roles = (sequenceItems(rolesOfPsp) ?? fail('RolesOfPSP is not a SEQUENCE')).map((role) => {
          const [oid, name] = sequenceItems(role) ?? fail('RoleOfPSP is not a SEQUENCE');
          const oidValue =
            oid instanceof asn1js.ObjectIdentifier ? oid.getValue() : fail('roleOfPspOid is not an OID');
          const nameValue = text(name) ?? fail('roleOfPspName is not a string');
          if (!isPsd2Role(nameValue) || psd2RoleOids[nameValue] !== oidValue) {
            fail(`role ${oidValue} "${nameValue}" is not a PSD2 role of ETSI TS 119 495`);
          }
          return nameValue as Psd2Role;
        });
        psd2 = {
          roles,
          nca: {
            name: text(ncaName) ?? fail('nCAName is not a string'),
            id: text(ncaId) ?? fail('nCAId is not a string'),
          },
        };
        break;
      }
      default:
        break;
    }
  }
  return { qcCompliance, qcTypes, ...(psd2 ? { psd2 } : {}), ...(pds ? { pds } : {}) };
}

function sequenceItems(value: unknown): unknown[] | undefined {
  return value instanceof asn1js.Sequence ? value.valueBlock.value : undefined;
}

function text(value: unknown): string | undefined {
  if (
    value instanceof asn1js.Utf8String ||
    value instanceof asn1js.PrintableString ||
    value instanceof asn1js.IA5String
  ) {
    return value.getValue();
  }
  return undefined;
}

/** Maps Open Banking roles to PSD2 roles, refusing unknown ones with a message listing the valid ones. */
export function psd2RolesOfObRoles(roles: readonly string[]): Psd2Role[] {
  const unknown = roles.filter((role) => !(obRoles as readonly string[]).includes(role));
  if (unknown.length > 0) {
    throw new PkiInputError(
      'profile.invalid',
      `unknown role${unknown.length > 1 ? 's' : ''} ${unknown.map((r) => JSON.stringify(r)).join(', ')}; expected ${obRoles.join(', ')}`,
    );
  }
  return checkPsd2Roles(roles.map((role) => psd2RoleOfObRole[role as ObRole]));
}
