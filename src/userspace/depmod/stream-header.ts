/**
 * DOC: the window a compressed module's stream header names — the memory in-kernel
 * decompression vmallocs for it (src/kernel/decompress.ts).
 *
 * The kernel's xz decoder (XZ_DYNALLOC) vmallocs the LZMA2 dictionary size of the block header;
 * its zstd path vmallocs a workspace sized from the frame header's window. Both are in the
 * first bytes of the file, so a real tree's files say it exactly; gzip's workspace is fixed and
 * has no header field. Format facts (the .xz file format 1.x and RFC 8878):
 *
 *  - xz: a 12-byte stream header, then the first block header: its size byte (b + 1) × 4
 *    (0 = no block: an empty stream), a flags byte (filter count − 1 in bits 0–1; bit 6 a
 *    compressed-size and bit 7 an uncompressed-size varint follow), then per filter an id and a
 *    properties-size varint and the properties. LZMA2 (id 0x21) is the last filter; its one
 *    property byte p ≤ 40 gives the dictionary: (2 | (p & 1)) << (p / 2 + 11), 40 = 4 GiB − 1.
 *  - zstd: the 4-byte magic, a frame-header descriptor (bit 5 single segment, bits 6–7 the
 *    content-size field's size flag, bits 0–1 the dictionary-id field's), then a window
 *    descriptor unless single-segment (exponent e = b >> 3, mantissa m = b & 7: window =
 *    2^(10+e) + m × 2^(10+e) / 8), the dictionary id, the content size (flag 0: 1 byte when
 *    single-segment; 1: 2 bytes + 256; 2: 4; 3: 8). A single-segment frame's window is its
 *    content size.
 *
 * Anything that does not parse gives undefined (the kernel's default then applies); the
 * decompressor itself reports a broken file.
 */
import type { Compression } from '../moduleset.js';

/** a little-endian base-128 varint (xz's multibyte integer) at `at`: value and next offset */
function varint(b: Buffer, at: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let i = 0; i < 9 && at + i < b.length; i++) {
    const byte = b[at + i]!;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return { value, next: at + i + 1 };
  }
  return undefined;
}

/** The LZMA2 dictionary size of an .xz stream's first block. */
export function xzDictBytes(b: Buffer): number | undefined {
  const HDR = 12;
  if (b.length < HDR + 2 || b[HDR] === 0) return undefined;
  const end = HDR + (b[HDR]! + 1) * 4;
  if (end > b.length) return undefined;
  const flags = b[HDR + 1]!;
  let at = HDR + 2;
  for (const present of [0x40, 0x80]) {
    if ((flags & present) === 0) continue;
    const v = varint(b, at);
    if (v === undefined) return undefined;
    at = v.next;
  }
  let dict: number | undefined;
  for (let f = 0; f <= (flags & 3); f++) {
    const id = varint(b, at);
    const size = id && varint(b, id.next);
    if (id === undefined || size === undefined || size.next + size.value > end) return undefined;
    if (id.value === 0x21 && size.value === 1) {
      const p = b[size.next]!;
      if (p > 40) return undefined;
      dict = p === 40 ? 0xffffffff : (2 | (p & 1)) * 2 ** (Math.floor(p / 2) + 11);
    }
    at = size.next + size.value;
  }
  return dict;
}

/** The window of a zstd stream's first frame (its content size when single-segment). */
export function zstdWindowBytes(b: Buffer): number | undefined {
  if (b.length < 6) return undefined;
  const fhd = b[4]!;
  const single = (fhd & 0x20) !== 0;
  const fcsFlag = fhd >> 6;
  let at = 5;
  let window: number | undefined;
  if (!single) {
    const wd = b[at++]!;
    const base = 2 ** (10 + (wd >> 3));
    window = base + (base / 8) * (wd & 7);
  }
  at += [0, 1, 2, 4][fhd & 3]!;
  const fcsBytes = fcsFlag === 0 ? (single ? 1 : 0) : [0, 2, 4, 8][fcsFlag]!;
  if (single) {
    if (at + fcsBytes > b.length) return undefined;
    let size = 0;
    for (let i = fcsBytes - 1; i >= 0; i--) size = size * 256 + b[at + i]!;
    return fcsBytes === 2 ? size + 256 : size;
  }
  return window;
}

/** The decompression window a module file's header names, for the algorithms that have one. */
export function compressionWindow(head: Buffer, compression: Compression): number | undefined {
  if (compression === 'xz') return xzDictBytes(head);
  if (compression === 'zstd') return zstdWindowBytes(head);
  return undefined;
}
