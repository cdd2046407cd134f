/**
 * DOC: a run's identity and a stored record's checksum — why resume can trust what it finds.
 *
 * A file name says which run point a record belongs to (machine, CPUs, kernel label, seed), not
 * what the run was made from. Two runs with the same name can differ in everything else that
 * decides their result: the preset's resolved flags and constants (a preset file named like a
 * built-in), the machine profile's contents, the module set, the policy's source, the kmod
 * version, the module area, the model's own code. So a run's identity is a hash of all of it:
 *
 * - `inputs`: one hash per part (named, so a mismatch can say which part changed), computed by
 *   the experiment that knows its inputs (src/experiments/storm-identity.ts for the storm);
 * - `id`: the hash of the parts and the run point itself.
 *
 * The store keeps both beside each record, with a checksum over the record and its identity: a
 * record edited by hand but still valid JSON and still a valid record no longer matches its
 * checksum, and is recomputed (resume) or refused (merge) instead of being served. The
 * checksum guards against edits and bit rot, not against someone who recomputes it on purpose.
 */
import { createHash } from 'node:crypto';

/** What a run was made from: a hash per named part, and the hash of them all with the run point. */
export interface RunIdentity {
  /** sha256 hex of the parts and the run point */
  id: string;
  /** part name → sha256 hex of that part (`preset`, `machine`, `modules`, `policy`, `model`, `kmod`, `moduleArea`) */
  inputs: Readonly<Record<string, string>>;
}

/** sha256 hex of a string or bytes */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function canonical(value: unknown): unknown {
  if (value instanceof Map) return ['Map', [...value.entries()].map(([k, v]) => [canonical(k), canonical(v)])];
  if (value instanceof Set) return ['Set', [...value].map(canonical)];
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined && typeof v !== 'function') out[k] = canonical(v);
    }
    return out;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return value;
}

/** sha256 of a value's canonical JSON: object keys sorted, Maps and Sets kept (as entries), undefined dropped */
export function hashValue(value: unknown): string {
  return sha256(JSON.stringify(canonical(value)) ?? 'undefined');
}

/** The identity of one run: its input parts and the run point (machine, cpus, kernel, seed). */
export function runIdentity(inputs: Readonly<Record<string, string>>, point: { machine: string; cpus: number; kernel: string; seed: number }): RunIdentity {
  const sorted: Record<string, string> = {};
  for (const k of Object.keys(inputs).sort()) sorted[k] = inputs[k]!;
  return { id: hashValue({ inputs: sorted, machine: point.machine, cpus: point.cpus, kernel: point.kernel, seed: point.seed }), inputs: sorted };
}

/** The names of the parts whose hashes differ between two identities (both sides' parts). */
export function changedInputs(stored: Readonly<Record<string, string>>, wanted: Readonly<Record<string, string>>): string[] {
  const names = [...new Set([...Object.keys(stored), ...Object.keys(wanted)])].sort();
  return names.filter((n) => stored[n] !== wanted[n]);
}

/** The checksum a stored record carries: over the record's canonical JSON and its identity (if any). */
export function recordChecksum(recordJson: string, identity: RunIdentity | undefined): string {
  return `sha256:${sha256(`${recordJson}\n${identity === undefined ? '' : JSON.stringify({ id: identity.id, inputs: identity.inputs })}`)}`;
}
