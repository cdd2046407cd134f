/**
 * DOC: the guest-agent wire protocol (host side; the guest side is scripts/kernel/kml-agent.c).
 *
 * The channel is a serial line, so it can carry anything besides our frames: kernel printk if a
 * console points at it, noise, the torn half of a frame from a guest that died. Each message is
 *
 *   "@@KML1 <kind> <id> <len> <crc32 hex8>\n" <len payload bytes> "\n"
 *
 * kind: Q request (host → guest), R response, H hello (guest is ready, sent once at start).
 * The payload is a list of netstrings ("<len>:<bytes>,"), binary safe. FrameDecoder scans for the
 * magic, skips whatever does not parse or whose CRC-32 does not match, and resynchronises on the
 * next magic; skipped bytes are handed back as noise so the session can keep them in its log.
 */

import { crc32 as zlibCrc32 } from 'node:zlib';

export const MAGIC = '@@KML1 ';
const MAGIC_BYTES = Buffer.from(MAGIC, 'latin1');
/** Longest header line we accept; anything longer after a magic is garbage. */
const MAX_HEADER = 96;
export const MAX_PAYLOAD = 64 << 20;

export type FrameKind = 'Q' | 'R' | 'H';

export interface Frame {
  kind: FrameKind;
  id: number;
  fields: Buffer[];
}

/** IEEE CRC-32 of a payload: zlib's (the guest agent computes the same polynomial). */
export function crc32(buf: Uint8Array): number {
  return zlibCrc32(buf);
}

export function encodeNetstrings(fields: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of fields) {
    const b = typeof f === 'string' ? Buffer.from(f, 'utf8') : f;
    parts.push(Buffer.from(`${b.length}:`, 'latin1'), b, Buffer.from(',', 'latin1'));
  }
  return Buffer.concat(parts);
}

/** Netstring fields of a payload, or null when it is malformed. */
export function decodeNetstrings(payload: Buffer): Buffer[] | null {
  const out: Buffer[] = [];
  let i = 0;
  while (i < payload.length) {
    let len = 0;
    let digits = 0;
    while (i < payload.length && payload[i]! >= 0x30 && payload[i]! <= 0x39) {
      len = len * 10 + (payload[i]! - 0x30);
      i++;
      digits++;
      if (digits > 10) return null;
    }
    if (digits === 0 || payload[i] !== 0x3a) return null;
    i++;
    if (i + len >= payload.length || payload[i + len] !== 0x2c) return null;
    out.push(payload.subarray(i, i + len));
    i += len + 1;
  }
  return out;
}

export function encodeFrame(kind: FrameKind, id: number, fields: (string | Buffer)[]): Buffer {
  const payload = encodeNetstrings(fields);
  const crc = crc32(payload).toString(16).padStart(8, '0');
  return Buffer.concat([
    Buffer.from(`\n${MAGIC}${kind} ${id} ${payload.length} ${crc}\n`, 'latin1'),
    payload,
    Buffer.from('\n', 'latin1'),
  ]);
}

const HEADER_RE = /^@@KML1 ([QRH]) (\d{1,15}) (\d{1,10}) ([0-9a-f]{8})$/;

/** Incremental decoder: push() bytes, get back complete checked frames and the noise skipped. */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);
  /** frames dropped for a bad header, payload or checksum (for diagnostics and tests) */
  rejected = 0;

  push(chunk: Buffer): { frames: Frame[]; noise: Buffer[] } {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const frames: Frame[] = [];
    const noise: Buffer[] = [];
    for (;;) {
      const at = this.buf.indexOf(MAGIC_BYTES);
      if (at < 0) {
        // keep what could be the start of a magic split across chunks
        const keep = Math.min(this.buf.length, MAGIC_BYTES.length - 1);
        if (this.buf.length > keep) noise.push(this.buf.subarray(0, this.buf.length - keep));
        this.buf = this.buf.subarray(this.buf.length - keep);
        return { frames, noise };
      }
      if (at > 0) {
        noise.push(this.buf.subarray(0, at));
        this.buf = this.buf.subarray(at);
      }
      const nl = this.buf.subarray(0, MAX_HEADER).indexOf(0x0a);
      if (nl < 0) {
        if (this.buf.length >= MAX_HEADER) {
          this.skipOne(noise);
          continue;
        }
        return { frames, noise }; // header incomplete
      }
      const m = HEADER_RE.exec(this.buf.subarray(0, nl).toString('latin1'));
      const len = m ? Number(m[3]) : -1;
      if (!m || len > MAX_PAYLOAD) {
        this.skipOne(noise);
        continue;
      }
      const start = nl + 1;
      if (this.buf.length < start + len) return { frames, noise }; // payload incomplete
      const payload = this.buf.subarray(start, start + len);
      const fields = crc32(payload) === parseInt(m[4]!, 16) ? decodeNetstrings(payload) : null;
      if (!fields) {
        this.skipOne(noise);
        continue;
      }
      // copy: the fields must not alias a buffer we keep slicing
      frames.push({ kind: m[1] as FrameKind, id: Number(m[2]), fields: fields.map((f) => Buffer.from(f)) });
      this.buf = this.buf.subarray(start + len);
    }
  }

  private skipOne(noise: Buffer[]): void {
    this.rejected++;
    noise.push(this.buf.subarray(0, 1));
    this.buf = this.buf.subarray(1);
  }
}
