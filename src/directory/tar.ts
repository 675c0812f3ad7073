import { gzipSync } from 'node:zlib';

export interface TarEntry {
  /** Path inside the archive (ASCII, at most 100 bytes). */
  name: string;
  content: string | Uint8Array;
  /** Unix permission bits; 0o600 for private keys. */
  mode?: number;
}

const block = 512;

function field(buffer: Buffer, offset: number, length: number, value: string): void {
  buffer.write(value, offset, length, 'ascii');
}

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, '0')}\0`;
}

/** A gzip-compressed POSIX ustar archive of regular files (what `tar xzf` reads). */
export function tarGz(entries: readonly TarEntry[], mtime: Date): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    if (!/^[\x20-\x7e]{1,100}$/.test(entry.name))
      throw new Error(`tar entry name ${JSON.stringify(entry.name)} is not short ASCII`);
    const data =
      typeof entry.content === 'string' ? Buffer.from(entry.content, 'utf8') : Buffer.from(entry.content);
    const header = Buffer.alloc(block, 0);
    field(header, 0, 100, entry.name);
    field(header, 100, 8, octal(entry.mode ?? 0o644, 8));
    field(header, 108, 8, octal(0, 8));
    field(header, 116, 8, octal(0, 8));
    field(header, 124, 12, octal(data.length, 12));
    field(header, 136, 12, octal(Math.floor(mtime.getTime() / 1000), 12));
    field(header, 148, 8, '        ');
    field(header, 156, 1, '0');
    field(header, 257, 6, 'ustar\0');
    field(header, 263, 2, '00');
    field(header, 265, 32, 'obkit');
    field(header, 297, 32, 'obkit');
    let sum = 0;
    for (const byte of header) sum += byte;
    field(header, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
    parts.push(header, data, Buffer.alloc((block - (data.length % block)) % block, 0));
  }
  parts.push(Buffer.alloc(block * 2, 0));
  return gzipSync(Buffer.concat(parts));
}
