/**
 * DOC: how every report summarises a set of storm records: runs of one point (same machine,
 * cpus, kernel) with several seeds are grouped and summarised as median and min–max.
 *
 * The order the groups come out in, and the records' JSON form, are not the reports' own: they
 * live in src/results/ (order.ts, json.ts), shared with the result store.
 */
import { sortRecords } from '../results/order.js';
import type { StormParams, StormRunRecord } from '../results/record.js';

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
