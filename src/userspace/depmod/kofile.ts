/**
 * DOC: one .ko file as finit_module() sees it.
 *
 * F is the bytes read (the compressed size for a compressed file); D is the ELF image after
 * decompression without the appended signature (spec §5.8). A signed module ends with
 * "~Module signature appended~\n", preceded by a 12-byte struct module_signature whose last field
 * is the big-endian length of the PKCS#7 signature that precedes it.
 */
import fs from 'node:fs';
import { InputError } from '../../errors.js';
import type { Compression, SectionSizes } from '../moduleset.js';
import { bufferSource, readElfSections, type ByteSource } from './elf.js';
import { compressionByMagic, compressionByName, decompressModule } from './decompress.js';
import { compressionWindow } from './stream-header.js';
import { requireRegularFile } from '../files.js';

export const MODULE_SIG_STRING = '~Module signature appended~\n';
const MARKER = Buffer.from(MODULE_SIG_STRING, 'latin1');
const SIG_STRUCT = 12;

export interface KoFacts {
  fileSize: number;
  compression: Compression;
  imageSize: number;
  signed: boolean;
  sections: SectionSizes;
  /** the xz dictionary / zstd window the stream header names (stream-header.ts) */
  compressionWindow?: number;
}

/** Length of the ELF image once an appended signature (if any) is stripped. */
export function unsignedLength(src: ByteSource, file: string): { length: number; signed: boolean } {
  const n = src.size;
  if (n < MARKER.length || !src.read(n - MARKER.length, MARKER.length).equals(MARKER)) return { length: n, signed: false };
  const structAt = n - MARKER.length - SIG_STRUCT;
  if (structAt < 0) throw new InputError(`${file}: signature marker without a module_signature (byte offset ${n - MARKER.length})`);
  const sigLen = src.read(structAt, SIG_STRUCT).readUInt32BE(8);
  const length = structAt - sigLen;
  if (length <= 0) throw new InputError(`${file}: signature length ${sigLen} exceeds the file (byte offset ${structAt + 8})`);
  return { length, signed: true };
}

/** Facts from a module image already in memory (the file's bytes, possibly compressed). */
export async function koFactsFromBuffer(data: Buffer, file: string): Promise<KoFacts> {
  const compression = checkCompression(data.subarray(0, 8), file);
  const image = await decompressModule(data, compression, file);
  const src = bufferSource(image);
  const { length, signed } = unsignedLength(src, file);
  const window = compressionWindow(data, compression);
  return { fileSize: data.length, compression, imageSize: length, signed, sections: readElfSections(src, length, file), ...(window !== undefined ? { compressionWindow: window } : {}) };
}

function checkCompression(head: Buffer, file: string): Compression {
  const byMagic = compressionByMagic(head);
  const byName = compressionByName(file);
  if (byName !== 'none' && byMagic !== byName) throw new InputError(`${file}: named as ${byName} but the data is ${byMagic === 'none' ? 'not compressed' : byMagic}`);
  return byMagic;
}

/**
 * Facts from a module file on disk. Uncompressed files are read by byte ranges (header, section
 * table, section names, tail); compressed ones must be read and decompressed whole.
 */
export async function readKoFile(filePath: string, shownName = filePath): Promise<KoFacts> {
  let fd: number;
  requireRegularFile(filePath, shownName);
  try {
    fd = fs.openSync(filePath, 'r');
  } catch (err) {
    throw new InputError(`${shownName}: cannot open: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    const size = fs.fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(8, size));
    fs.readSync(fd, head, 0, head.length, 0);
    const compression = checkCompression(head, shownName);
    if (compression !== 'none') return await koFactsFromBuffer(fs.readFileSync(fd), shownName);
    const src: ByteSource = {
      size,
      read(offset, length) {
        const b = Buffer.alloc(length);
        const got = fs.readSync(fd, b, 0, length, offset);
        if (got !== length) throw new InputError(`${shownName}: short read at byte offset ${offset}`);
        return b;
      },
    };
    const { length, signed } = unsignedLength(src, shownName);
    return { fileSize: size, compression, imageSize: length, signed, sections: readElfSections(src, length, shownName) };
  } finally {
    fs.closeSync(fd);
  }
}
