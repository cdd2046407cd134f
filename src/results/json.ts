/**
 * DOC: the one JSON form of a storm record, and of a set of them (JSON array, JSONL).
 *
 * A record is byte-identical for identical content, however the simulator (or a stored file, or
 * another tool) built the object: keys in the schema's order (record.ts), then any newer fields
 * sorted; map keys sorted; waste categories in the kernel's order. Lists keep their order: it is
 * the simulator's (and the kernel's stats table's) own. The result store writes this form, merge
 * compares it, and `--format json|jsonl` prints it.
 */
import { sortRecords, cmpStr } from './order.js';
import { CATEGORIES, RECORD_FIELDS, type StormParams, type StormRunRecord } from './record.js';

function sortedObject(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedObject);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort(cmpStr)) out[k] = sortedObject((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

/** The record as a plain object in canonical key order (see the DOC above). */
export function canonicalRecord(r: StormRunRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const src = r as unknown as Record<string, unknown>;
  for (const f of RECORD_FIELDS) {
    if (!(f in src)) continue;
    if (f === 'wastedBytesByCategory') {
      const w: Record<string, unknown> = {};
      for (const c of CATEGORIES) w[c] = r.wastedBytesByCategory[c];
      for (const k of Object.keys(r.wastedBytesByCategory).sort(cmpStr)) if (!(k in w)) w[k] = (r.wastedBytesByCategory as unknown as Record<string, unknown>)[k];
      out[f] = w;
    } else if (f === 'duplicates') {
      out[f] = r.duplicates.map((d) => ({ module: d.module, count: d.count, reason: d.reason }));
    } else {
      out[f] = sortedObject(src[f]);
    }
  }
  for (const k of Object.keys(src).sort(cmpStr)) if (!(k in out)) out[k] = sortedObject(src[k]);
  return out;
}

/** One-line JSON of a record in canonical form (JSONL, and equality in merges). */
export function recordJson(r: StormRunRecord, indent?: number): string {
  return JSON.stringify(canonicalRecord(r), null, indent);
}

/** A JSON array of the records, two-space indented, in report order. */
export function recordsJson(records: readonly StormRunRecord[], params?: Pick<StormParams, 'kernels'>): string {
  const sorted = sortRecords(records, params).map(canonicalRecord);
  return JSON.stringify(sorted, null, 2) + '\n';
}

/** One compact JSON record per line, in report order. */
export function recordsJsonl(records: readonly StormRunRecord[], params?: Pick<StormParams, 'kernels'>): string {
  return sortRecords(records, params)
    .map((r) => recordJson(r) + '\n')
    .join('');
}
