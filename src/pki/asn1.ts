import * as asn1js from 'asn1js';
import { PkiInputError, type PkiInputErrorCode } from './errors.ts';

/** Decodes one DER value, refusing trailing bytes and BER errors with a message naming `what`. */
export function decodeDer(
  der: ArrayBuffer | Uint8Array,
  what: string,
  code: PkiInputErrorCode,
): asn1js.AsnType {
  const bytes = der instanceof Uint8Array ? der : new Uint8Array(der);
  const decoded = asn1js.fromBER(bytes);
  if (decoded.offset === -1)
    throw new PkiInputError(code, `${what} is not valid DER: ${decoded.result.error}`);
  if (decoded.offset !== bytes.byteLength) {
    throw new PkiInputError(
      code,
      `${what} has ${bytes.byteLength - decoded.offset} unexpected bytes after its DER value`,
    );
  }
  return decoded.result;
}

/** The bytes of an ArrayBuffer view as a fresh ArrayBuffer (asn1js and WebCrypto want one). */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
