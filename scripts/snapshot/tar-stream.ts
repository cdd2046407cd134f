/**
 * DOC: the regular files of a tar stream, one at a time, without unpacking it to disk.
 *
 * Why: a Debian -dbg kernel package unpacks to 5–6 GB of unstripped modules; the snapshot needs
 * only each .ko's size and section table. `dpkg-deb --fsys-tarfile` streams the data tarball
 * (GNU format: ustar headers, `L` long names, pax `x` headers); this reads it as it comes and
 * hands over each wanted file's bytes in memory (the largest .ko is ~45 MB), skipping the rest.
 */
import type { Readable } from 'node:stream';

const BLOCK = 512;

function field(h: Buffer, off: number, len: number): string {
  const end = h.indexOf(0, off);
  return h.toString('utf8', off, end >= 0 && end < off + len ? end : off + len);
}

function octal(h: Buffer, off: number, len: number): number {
  const s = field(h, off, len).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

/**
 * Calls onFile(path, bytes) for every regular file whose path `want` accepts (paths as in the
 * archive, e.g. "./usr/lib/debug/…"). Resolves when the stream ends.
 */
export async function readTarFiles(stream: Readable, want: (path: string) => boolean, onFile: (path: string, data: Buffer) => void): Promise<number> {
  let buf: Buffer = Buffer.alloc(0);
  /** the entry being read: bytes still to come, where they go */
  let left = 0;
  let pad = 0;
  let parts: Buffer[] | null = null;
  let kind: 'file' | 'longname' | 'pax' | 'skip' = 'skip';
  let path = '';
  let longName: string | null = null;
  let files = 0;
  const finishEntry = (): void => {
    const data = parts ? Buffer.concat(parts) : Buffer.alloc(0);
    if (kind === 'longname') longName = field(data, 0, data.length);
    else if (kind === 'pax') {
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
      if (m) longName = m[1]!;
    } else if (kind === 'file') {
      files++;
      onFile(path, data);
    }
    parts = null;
  };
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    for (;;) {
      if (left > 0) {
        const n = Math.min(left, buf.length);
        if (parts) parts.push(buf.subarray(0, n));
        buf = buf.subarray(n);
        left -= n;
        if (left > 0) break;
        finishEntry();
      }
      if (pad > 0) {
        const n = Math.min(pad, buf.length);
        buf = buf.subarray(n);
        pad -= n;
        if (pad > 0) break;
      }
      if (buf.length < BLOCK) break;
      const h = buf.subarray(0, BLOCK);
      buf = buf.subarray(BLOCK);
      if (h.every((b) => b === 0)) continue; // end-of-archive blocks
      const size = octal(h, 124, 12);
      const type = String.fromCharCode(h[156]!);
      const prefix = field(h, 345, 155);
      const name = longName ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100));
      longName = type === 'L' || type === 'x' ? longName : null;
      if (type === 'L') kind = 'longname';
      else if (type === 'x') kind = 'pax';
      else if ((type === '0' || type === '\0') && want(name)) kind = 'file';
      else kind = 'skip';
      path = name;
      parts = kind === 'skip' ? null : [];
      left = size;
      pad = (BLOCK - (size % BLOCK)) % BLOCK;
      if (left === 0) finishEntry();
    }
  }
  return files;
}
