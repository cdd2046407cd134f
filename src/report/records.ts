/**
 * DOC: how every report sees a set of storm records: one order, one grouping, one JSON form.
 *
 * Reports must be byte-identical for identical input (DESIGN: deterministic), whatever order the
 * runs finished in, whichever shard ran them and however the simulator built its objects. So all
 * of them go through this file: records are sorted by (machine, cpus, kernel, seed), kernels in
 * the sweep's order; runs of one point (same machine, cpus, kernel) with several seeds are grouped
 * and summarised as median and min–max; and a record is serialised with its fields in record.ts
 * order and its maps' keys sorted.
 */
import type { StormParams, StormRunRecord, WasteByCategory } from '../experiments/record.js';

/** The record's fields in record.ts order: the JSON key order and the CSV column order. */
export const RECORD_FIELDS = [
  'machine',
  'cpus',
  'kernel',
  'seed',
  'wastedBytes',
  'wastedBytesByCategory',
  'failedBecoming',
  'failedLoad',
  'modulesLoaded',
  'loadAttempts',
  'loadAttemptsByModule',
  'failuresByModule',
  'peakVmallocBytes',
  'peakModuleAreaBytes',
  'allocFailures',
  'modulesFailedByAllocation',
  'settleNs',
  'workerBlockedNs',
  'uevents',
  'duplicates',
] as const satisfies readonly (keyof StormRunRecord)[];

export const CATEGORIES = ['kread', 'decompress', 'becoming', 'load'] as const satisfies readonly (keyof WasteByCategory)[];

/** Natural order for preset names: v6.9 before v6.10, "v6.5+" after "v6.5". */
export function naturalCompare(a: string, b: string): number {
  const pa = a.match(/\d+|\D+/g) ?? [];
  const pb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const nx = /^\d/.test(x);
    const ny = /^\d/.test(y);
    if (nx && ny) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
    }
    return x < y ? -1 : 1;
  }
  if (pa.length !== pb.length) return pa.length - pb.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Kernel order: the sweep's own order first (params.kernels), then any others naturally. */
export function kernelOrder(records: readonly { kernel: string }[], params?: Pick<StormParams, 'kernels'>): string[] {
  const given = params?.kernels ?? [];
  const seen = new Set(records.map((r) => r.kernel));
  const extra = [...seen].filter((k) => !given.includes(k)).sort(naturalCompare);
  return [...given.filter((k) => seen.has(k)), ...extra];
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Comparator for run points or records: machine, cpus, kernel (in `kernels` order), seed. */
export function pointComparator(kernels: readonly string[] = []) {
  const rank = new Map(kernels.map((k, i) => [k, i]));
  return (a: { machine: string; cpus: number; kernel: string; seed: number }, b: typeof a): number => {
    if (a.machine !== b.machine) return cmpStr(a.machine, b.machine);
    if (a.cpus !== b.cpus) return a.cpus - b.cpus;
    if (a.kernel !== b.kernel) {
      const ra = rank.get(a.kernel);
      const rb = rank.get(b.kernel);
      if (ra !== undefined && rb !== undefined) return ra - rb;
      if (ra !== undefined) return -1;
      if (rb !== undefined) return 1;
      return naturalCompare(a.kernel, b.kernel);
    }
    return a.seed - b.seed;
  };
}

/** Records in report order (a new array). */
export function sortRecords(records: readonly StormRunRecord[], params?: Pick<StormParams, 'kernels'>): StormRunRecord[] {
  return [...records].sort(pointComparator(kernelOrder(records, params)));
}

function sortedObject(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedObject);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort(cmpStr)) out[k] = sortedObject((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

/**
 * The record with its keys in record.ts order (then any newer fields, sorted), map keys sorted,
 * category keys in the kernel's order. Lists keep their order: it is the simulator's (and the
 * kernel's stats table's) own.
 */
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

/** min, median, max of a non-empty list (median of an even count: mean of the middle two). */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { median: 0, min: 0, max: 0 };
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]! };
}

/** All seeds of one (machine, cpus, kernel) point, in seed order. */
export interface PointGroup {
  machine: string;
  cpus: number;
  kernel: string;
  runs: StormRunRecord[];
}

/** Group sorted records by point; groups come out in report order. */
export function groupByPoint(records: readonly StormRunRecord[], params?: Pick<StormParams, 'kernels'>): PointGroup[] {
  const groups: PointGroup[] = [];
  let cur: PointGroup | undefined;
  for (const r of sortRecords(records, params)) {
    if (!cur || cur.machine !== r.machine || cur.cpus !== r.cpus || cur.kernel !== r.kernel) {
      cur = { machine: r.machine, cpus: r.cpus, kernel: r.kernel, runs: [] };
      groups.push(cur);
    }
    cur.runs.push(r);
  }
  return groups;
}

/** The numeric measures every report summarises per point. */
export const MEASURES = {
  wastedBytes: (r: StormRunRecord) => r.wastedBytes,
  kread: (r: StormRunRecord) => r.wastedBytesByCategory.kread,
  decompress: (r: StormRunRecord) => r.wastedBytesByCategory.decompress,
  becoming: (r: StormRunRecord) => r.wastedBytesByCategory.becoming,
  load: (r: StormRunRecord) => r.wastedBytesByCategory.load,
  failedBecoming: (r: StormRunRecord) => r.failedBecoming,
  failedLoad: (r: StormRunRecord) => r.failedLoad,
  modulesLoaded: (r: StormRunRecord) => r.modulesLoaded,
  loadAttempts: (r: StormRunRecord) => r.loadAttempts,
  peakVmallocBytes: (r: StormRunRecord) => r.peakVmallocBytes,
  peakModuleAreaBytes: (r: StormRunRecord) => r.peakModuleAreaBytes,
  allocFailures: (r: StormRunRecord) => r.allocFailures,
  settleNs: (r: StormRunRecord) => r.settleNs,
  workerBlockedNs: (r: StormRunRecord) => r.workerBlockedNs,
} as const;

export type Measure = keyof typeof MEASURES;

export function summarize(g: PointGroup, m: Measure): Spread {
  return spread(g.runs.map(MEASURES[m]));
}

/** Parameters for a report header when the caller has none: what the records themselves span. */
export function paramsFromRecords(records: readonly StormRunRecord[], command = ''): StormParams {
  const machines = [...new Set(records.map((r) => r.machine))].sort(cmpStr);
  return {
    machine: machines.join(','),
    cpus: [...new Set(records.map((r) => r.cpus))].sort((a, b) => a - b),
    kernels: kernelOrder(records),
    seeds: [...new Set(records.map((r) => r.seed))].sort((a, b) => a - b),
    command,
  };
}
