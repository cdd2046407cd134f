/**
 * DOC: the one order of storm records: (machine, cpus, kernel, seed), kernels in the sweep's order.
 *
 * Reports, the result store's merge and every other consumer must see records in the same order,
 * whatever order the runs finished in, whichever shard ran them (DESIGN: deterministic). Kernel
 * presets sort in the order the sweep named them, then any others naturally (v6.9 before v6.10).
 */
import type { StormParams, StormRunRecord } from './record.js';

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

/** Code-unit order of strings (not locale order: the same everywhere). */
export function cmpStr(a: string, b: string): number {
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

/**
 * The parameters a set of records spans (for a report header when the caller has none, and for
 * merged result directories): machines joined, CPU counts and seeds ascending, kernels in
 * `kernels` order first.
 */
export function paramsFromRecords(records: readonly StormRunRecord[], command = '', kernels?: Pick<StormParams, 'kernels'>): StormParams {
  const machines = [...new Set(records.map((r) => r.machine))].sort(cmpStr);
  return {
    machine: machines.join(','),
    cpus: [...new Set(records.map((r) => r.cpus))].sort((a, b) => a - b),
    kernels: kernelOrder(records, kernels),
    seeds: [...new Set(records.map((r) => r.seed))].sort((a, b) => a - b),
    command,
  };
}
