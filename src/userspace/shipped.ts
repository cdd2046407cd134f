/**
 * DOC: the data files kmodlab ships, known by checksum, so they are not validated again in every
 * process.
 *
 * A machine profile, a module-set snapshot or a udev rules set under data/ is validated with zod
 * when it is read, like any file a user gives — but for the shipped ones that is the same work
 * on the same bytes in every process and every worker thread (a snapshot: 56–99 ms; zod's ~95
 * files alone cost more than the rest of `kmodlab machines`). So data/shipped-checksums.json
 * (written by `npm run shipped:update`, scripts/shipped-checksums.ts) records, for each shipped
 * file, the size and CRC-32 of its bytes as they were validated and, where validation changes the
 * value (defaults applied, keys in schema order), the validated form itself. A reader asks
 * `knownShipped(file, bytes)`: the recorded entry when the file is under data/ and its bytes are
 * the recorded ones, else null — an edited, new or user file is validated as before, with the
 * same one-line errors. test/userspace/shipped.test.ts fails when the record is out of date.
 *
 * CRC-32 (zlib's), not a cryptographic hash: it tells an edited or regenerated file from the
 * recorded one, which is its whole job — a file forged to match could as well come with its own
 * record — and node:crypto would cost `kmodlab machines` ~7 ms more to load than zlib does.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { dataPath } from './depmod/paths.js';

export const SHIPPED_MANIFEST = 'shipped-checksums.json';
export const SHIPPED_FORMAT = 'kmodlab-shipped/1';

export interface ShippedEntry {
  /** the file's size in bytes */
  size: number;
  /** CRC-32 of the file's bytes */
  crc32: number;
  /** the value validation returned, when it is not the file's JSON as it stands */
  validated?: unknown;
  /** hashValue (src/results/identity.ts) of the value the reader returns, for run identities: a snapshot's module set */
  valueHash?: string;
}

export interface ShippedManifest {
  format: typeof SHIPPED_FORMAT;
  /** by path under data/, with '/' ('machines/kvm-guest.json') */
  files: Record<string, ShippedEntry>;
}

let manifest: ShippedManifest | null | undefined;

function readManifest(): ShippedManifest | null {
  if (manifest !== undefined) return manifest;
  try {
    const m = JSON.parse(fs.readFileSync(dataPath(SHIPPED_MANIFEST), 'utf8')) as Partial<ShippedManifest> | null;
    manifest = m !== null && m.format === SHIPPED_FORMAT && typeof m.files === 'object' && m.files !== null ? (m as ShippedManifest) : null;
  } catch {
    // no record (or not readable): every file is validated, as a user's would be
    manifest = null;
  }
  return manifest;
}

/** what is recorded of a file's bytes */
export function checksum(bytes: Buffer | string): { size: number; crc32: number } {
  const b = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  return { size: b.length, crc32: zlib.crc32(b) };
}

/** a file's name under data/ ('machines/kvm-guest.json'), or null when it is elsewhere */
export function shippedName(file: string): string | null {
  const rel = path.relative(dataPath(), path.resolve(file));
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return null;
  return rel.split(path.sep).join('/');
}

/** The recorded entry of a shipped file whose bytes are the ones validated when it was recorded, else null. */
export function knownShipped(file: string, bytes: Buffer | string): ShippedEntry | null {
  const name = shippedName(file);
  if (name === null) return null;
  const e = readManifest()?.files[name];
  if (e === undefined) return null;
  const c = checksum(bytes);
  return e.size === c.size && e.crc32 === c.crc32 ? e : null;
}
