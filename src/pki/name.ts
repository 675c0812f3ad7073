import { x509 } from './x509.ts';

/**
 * An X.501 Name from [type, value] pairs in DER order (C first, CN last). Values are passed to
 * @peculiar/x509 as typed strings: its text path would strip quotes, unescape backslashes and read a
 * leading `#` as hex, which mangles names like `Acme "Payments" Ltd`.
 */
export function buildName(attributes: readonly (readonly [type: string, value: string])[]): x509.Name {
  return new x509.Name(
    attributes.map(([type, value]) => ({
      // RFC 5280 §4.1.2.4: UTF8String for DirectoryString, PrintableString for the country.
      [type]: [type === 'C' ? { printableString: value } : { utf8String: value }],
    })),
  );
}
