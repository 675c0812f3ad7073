import * as asn1js from 'asn1js';
import { decodeDer } from './asn1.ts';
import { PkiInputError } from './errors.ts';

/**
 * Distinguished names in the string form of RFC 4514, and their comparison. A parsed DN lists RDNs in
 * RFC 4514 order (most specific first: `CN=…,OU=…,O=…,C=GB`), the reverse of their DER order.
 */
export interface DnAttribute {
  /** Dotted OID. */
  readonly type: string;
  /** The value as text; for a value that is not a string type, `#` and the hex of its BER encoding. */
  readonly value: string;
  /** The BER encoding of the value when it came from DER or a `#hex` string. */
  readonly ber?: Uint8Array;
}
export type DnRdn = readonly DnAttribute[];
export type ParsedDn = readonly DnRdn[];

/** RFC 4514 §3 names: used when formatting. */
const rfc4514Names: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.6': 'C',
  '2.5.4.9': 'STREET',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
};

/** Every name we accept when parsing (case-insensitive): RFC 4514's, X.520 long names, OpenSSL's. */
const acceptedNames: Readonly<Record<string, string>> = {
  CN: '2.5.4.3',
  COMMONNAME: '2.5.4.3',
  L: '2.5.4.7',
  LOCALITYNAME: '2.5.4.7',
  ST: '2.5.4.8',
  S: '2.5.4.8',
  STATEORPROVINCENAME: '2.5.4.8',
  O: '2.5.4.10',
  ORGANIZATIONNAME: '2.5.4.10',
  OU: '2.5.4.11',
  ORGANIZATIONALUNITNAME: '2.5.4.11',
  C: '2.5.4.6',
  COUNTRYNAME: '2.5.4.6',
  STREET: '2.5.4.9',
  STREETADDRESS: '2.5.4.9',
  DC: '0.9.2342.19200300.100.1.25',
  DOMAINCOMPONENT: '0.9.2342.19200300.100.1.25',
  UID: '0.9.2342.19200300.100.1.1',
  USERID: '0.9.2342.19200300.100.1.1',
  SERIALNUMBER: '2.5.4.5',
  SN: '2.5.4.4',
  SURNAME: '2.5.4.4',
  GN: '2.5.4.42',
  GIVENNAME: '2.5.4.42',
  T: '2.5.4.12',
  TITLE: '2.5.4.12',
  E: '1.2.840.113549.1.9.1',
  EMAIL: '1.2.840.113549.1.9.1',
  EMAILADDRESS: '1.2.840.113549.1.9.1',
  ORGANIZATIONIDENTIFIER: '2.5.4.97',
};

const malformed = (text: string, why: string): never => {
  throw new PkiInputError('dn.malformed', `"${text}" is not a distinguished name (RFC 4514): ${why}`);
};

/** Parses an RFC 4514 string. Lenient where harmless: spaces around `,` `+` `=`, quoted values, `OID.` prefixes. */
export function parseDn(text: string): ParsedDn {
  const rdns: DnAttribute[][] = [];
  let position = 0;
  const skipSpaces = (): void => {
    while (text[position] === ' ') position++;
  };
  skipSpaces();
  if (position === text.length) return [];
  let current: DnAttribute[] = [];
  for (;;) {
    skipSpaces();
    const typeMatch = /^(?:oid\.)?([0-9]+(?:\.[0-9]+)+|[A-Za-z][A-Za-z0-9-]*)\s*=/i.exec(
      text.slice(position),
    );
    if (!typeMatch) malformed(text, `expected an attribute type at position ${position + 1}`);
    const rawType = typeMatch![1]!;
    const type = /^[0-9]/.test(rawType) ? rawType : acceptedNames[rawType.toUpperCase()];
    if (!type) malformed(text, `unknown attribute type "${rawType}"`);
    position += typeMatch![0].length;
    skipSpaces();
    const { attribute, end } = parseValue(text, position, type!);
    current.push(attribute);
    position = end;
    skipSpaces();
    if (position === text.length) break;
    const separator = text[position];
    position++;
    if (separator === ',' || separator === ';') {
      rdns.push(current);
      current = [];
    } else if (separator !== '+') {
      malformed(text, `unexpected "${separator}" at position ${position}`);
    }
  }
  rdns.push(current);
  return rdns;
}

function parseValue(text: string, start: number, type: string): { attribute: DnAttribute; end: number } {
  if (text[start] === '#') {
    const match = /^#((?:[0-9a-fA-F]{2})+)/.exec(text.slice(start));
    if (!match) malformed(text, `"#" at position ${start + 1} is not followed by hex pairs`);
    const ber = Uint8Array.from(Buffer.from(match![1]!, 'hex'));
    return { attribute: fromBer(type, ber), end: start + match![0].length };
  }
  if (text[start] === '"') {
    let position = start + 1;
    let value = '';
    while (position < text.length && text[position] !== '"') {
      if (text[position] === '\\') position++;
      value += text[position] ?? '';
      position++;
    }
    if (text[position] !== '"') malformed(text, 'unterminated quoted value');
    return { attribute: { type, value }, end: position + 1 };
  }
  const bytes: number[] = [];
  let position = start;
  let lastSignificant = 0; // bytes length up to the last escaped or non-space character
  while (position < text.length) {
    const char = text[position]!;
    if (char === ',' || char === '+' || char === ';') break;
    if (char === '\\') {
      const pair = /^[0-9a-fA-F]{2}/.exec(text.slice(position + 1));
      if (pair) {
        bytes.push(parseInt(pair[0], 16));
        position += 3;
      } else if (position + 1 < text.length) {
        bytes.push(...Buffer.from(text[position + 1]!, 'utf8'));
        position += 2;
      } else {
        malformed(text, 'it ends with a lone backslash');
      }
      lastSignificant = bytes.length;
      continue;
    }
    if (char === '"' || char === '<' || char === '>' || char === '=') {
      malformed(text, `"${char}" at position ${position + 1} must be escaped`);
    }
    bytes.push(...Buffer.from(char, 'utf8'));
    if (char !== ' ') lastSignificant = bytes.length;
    position++;
  }
  const value = Buffer.from(bytes.slice(0, lastSignificant)).toString('utf8');
  return { attribute: { type, value }, end: position };
}

function fromBer(type: string, ber: Uint8Array): DnAttribute {
  const decoded = decodeDer(ber, `the value of ${type}`, 'dn.malformed');
  const text = stringValue(decoded);
  return { type, value: text ?? `#${Buffer.from(ber).toString('hex')}`, ber };
}

function stringValue(value: asn1js.AsnType): string | undefined {
  if (
    value instanceof asn1js.Utf8String ||
    value instanceof asn1js.PrintableString ||
    value instanceof asn1js.IA5String ||
    value instanceof asn1js.BmpString ||
    value instanceof asn1js.UniversalString ||
    value instanceof asn1js.TeletexString ||
    value instanceof asn1js.VisibleString ||
    value instanceof asn1js.NumericString
  ) {
    return value.getValue();
  }
  return undefined;
}

/** Reads a DER-encoded X.501 Name (e.g. `certificate.subjectName.toArrayBuffer()`), in RFC 4514 order. */
export function dnFromDer(der: ArrayBuffer | Uint8Array): ParsedDn {
  const name = decodeDer(der, 'the distinguished name', 'dn.malformed');
  const fail = (): never => {
    throw new PkiInputError(
      'dn.malformed',
      'the distinguished name is not a SEQUENCE OF SET OF AttributeTypeAndValue',
    );
  };
  if (!(name instanceof asn1js.Sequence)) fail();
  const rdns = (name as asn1js.Sequence).valueBlock.value.map((set) => {
    if (!(set instanceof asn1js.Set)) fail();
    return (set as asn1js.Set).valueBlock.value.map((pair): DnAttribute => {
      const [oid, value] = pair instanceof asn1js.Sequence ? pair.valueBlock.value : fail();
      if (!(oid instanceof asn1js.ObjectIdentifier) || !value) return fail();
      const ber = new Uint8Array(value.toBER());
      const text = stringValue(value);
      return { type: oid.getValue(), value: text ?? `#${Buffer.from(ber).toString('hex')}`, ber };
    });
  });
  return rdns.reverse();
}

/**
 * Formats a DN as RFC 4514 §2 prescribes: short names from its table, dotted OIDs otherwise with the
 * value as `#` + hex of its BER encoding (when known), escaping `"+,;<>\`, a leading `#` or space, a
 * trailing space.
 */
export function formatDn(dn: ParsedDn): string {
  return dn
    .map((rdn) =>
      rdn
        .map((attribute) => {
          const name = rfc4514Names[attribute.type];
          if (!name && attribute.ber)
            return `${attribute.type}=#${Buffer.from(attribute.ber).toString('hex')}`;
          return `${name ?? attribute.type}=${escapeValue(attribute.value)}`;
        })
        .join('+'),
    )
    .join(',');
}

function escapeValue(value: string): string {
  if (value.startsWith('#') && /^#([0-9a-f]{2})+$/.test(value)) return value; // already a BER hex form
  return value
    .replace(/[\\"+,;<>]/g, (c) => `\\${c}`)
    .replaceAll(String.fromCharCode(0), '\\00')
    .replace(/^([ #])/, '\\$1')
    .replace(/ $/, '\\ ');
}

/** RFC 4514 text of a DER Name. */
export function dnToString(der: ArrayBuffer | Uint8Array): string {
  return formatDn(dnFromDer(der));
}

/**
 * A canonical key: attribute values compared case-insensitively with spaces collapsed (X.520
 * caseIgnoreMatch after RFC 4518 insignificant-space handling), types by OID, and RDN order ignored.
 */
export function canonicalDn(dn: string | ParsedDn): string {
  const parsed = typeof dn === 'string' ? parseDn(dn) : dn;
  return parsed
    .map((rdn) =>
      rdn
        .map((attribute) => `${attribute.type}=${normalizeValue(attribute.value)}`)
        .sort()
        .join('+'),
    )
    .sort()
    .join(',');
}

function normalizeValue(value: string): string {
  return value.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
}

/** True when both name the same subject: `CN=a,OU=b` equals `OU=b, 2.5.4.3=a`. Malformed input throws. */
export function dnEquals(a: string | ParsedDn, b: string | ParsedDn): boolean {
  return canonicalDn(a) === canonicalDn(b);
}

/** The first value of an attribute (by OID), or undefined. */
export function dnAttribute(dn: ParsedDn, type: string): string | undefined {
  for (const rdn of dn) for (const attribute of rdn) if (attribute.type === type) return attribute.value;
  return undefined;
}
