/**
 * DOC: module decompression in pure Node — what kmod (userspace) or the kernel (v5.17+,
 * MODULE_INIT_COMPRESSED_FILE) does before it can look at a compressed module's ELF image.
 *
 * Compression is recognised by magic bytes, as kmod does, not by the file name: gzip (zlib),
 * xz (the xz-decompress WebAssembly build of xz-embedded) and zstd (fzstd). Any failure of the
 * decoder becomes one InputError naming the file.
 */
import zlib from 'node:zlib';
import { InputError } from '../../errors.js';
import type { Compression } from '../moduleset.js';

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

/** Compression named by the file's first bytes. */
export function compressionByMagic(head: Buffer): Compression {
  if (head.subarray(0, 6).equals(XZ_MAGIC)) return 'xz';
  if (head.subarray(0, 4).equals(ZSTD_MAGIC)) return 'zstd';
  if (head.subarray(0, 2).equals(GZIP_MAGIC)) return 'gzip';
  return 'none';
}

/** Compression named by the file's extension (.ko.xz, .ko.zst, .ko.gz). */
export function compressionByName(p: string): Compression {
  if (p.endsWith('.xz')) return 'xz';
  if (p.endsWith('.zst')) return 'zstd';
  if (p.endsWith('.gz')) return 'gzip';
  return 'none';
}

/** xz-embedded's return codes, as its decoder reports them */
const XZ_ERRORS: Record<number, string> = {
  2: 'unsupported integrity check',
  3: 'out of memory',
  4: 'memory limit reached',
  5: 'not xz data',
  6: 'unsupported xz options (a SHA-256 check or a filter xz-embedded lacks; kernel modules use --check=crc32)',
  7: 'corrupt data',
  8: 'truncated data',
};

/** A module image is far below this; a decoder producing more is fed garbage or a bomb. */
const MAX_IMAGE = 1 << 30;

export async function decompressModule(data: Buffer, kind: Compression, file: string): Promise<Buffer> {
  try {
    switch (kind) {
      case 'none':
        return data;
      case 'gzip':
        return zlib.gunzipSync(data, { maxOutputLength: MAX_IMAGE });
      case 'zstd': {
        // the decoders load only when a compressed file is read
        const { decompress: zstdDecompress } = await import('fzstd');
        const out = zstdDecompress(new Uint8Array(data.buffer, data.byteOffset, data.length));
        return Buffer.from(out.buffer, out.byteOffset, out.length);
      }
      case 'xz': {
        const { default: xz } = await import('xz-decompress');
        const stream = new xz.XzReadableStream(new Blob([data]).stream());
        const ab = await new Response(stream).arrayBuffer();
        return Buffer.from(ab);
      }
    }
  } catch (err) {
    let why = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
    const xzCode = /error code (\d+)/.exec(why);
    if (kind === 'xz' && xzCode) why = XZ_ERRORS[Number(xzCode[1])] ?? why;
    throw new InputError(`${file}: cannot decompress ${kind} data: ${why}`);
  }
}
