/**
 * DOC: the run list of a storm sweep, and `--shard i/N` of it.
 *
 * A sweep is every (CPU count, kernel preset, seed) of its parameters, in a deterministic order
 * (CPU counts ascending, kernels as given, seeds ascending). `--shard i/N` takes every N-th point
 * of that list (round-robin, so every shard gets small and large CPU counts alike), and the N
 * shards partition the list exactly; each shard's records go to the result store
 * (src/results/store.ts) and `storm merge` joins them.
 */
import { InputError } from '../errors.js';
import type { StormParams } from '../results/record.js';
import type { RunPoint } from '../results/store.js';

/** The run list of a sweep, in report order: cpus ascending, kernels in the given order, seeds. */
export function runPoints(params: Pick<StormParams, 'machine' | 'cpus' | 'kernels' | 'seeds'>): RunPoint[] {
  const out: RunPoint[] = [];
  const cpus = [...new Set(params.cpus)].sort((a, b) => a - b);
  const seeds = [...new Set(params.seeds)].sort((a, b) => a - b);
  for (const c of cpus) for (const k of params.kernels) for (const s of seeds) out.push({ machine: params.machine, cpus: c, kernel: k, seed: s });
  return out;
}

export interface Shard {
  /** 1-based */
  index: number;
  count: number;
}

/** Parse `--shard i/N` (1 ≤ i ≤ N). */
export function parseShard(text: string, option = '--shard'): Shard {
  const m = /^\s*([0-9]+)\s*\/\s*([0-9]+)\s*$/.exec(text);
  if (!m) throw new InputError(`${option}: bad shard "${text}": expected i/N, e.g. 2/8`);
  const index = Number(m[1]);
  const n = Number(m[2]);
  if (!Number.isSafeInteger(n) || !Number.isSafeInteger(index)) throw new InputError(`${option}: bad shard "${text}": i and N must be at most ${Number.MAX_SAFE_INTEGER}`);
  if (n < 1) throw new InputError(`${option}: bad shard "${text}": N must be at least 1`);
  if (!Number.isSafeInteger(index) || index < 1 || index > n) throw new InputError(`${option}: bad shard "${text}": i must be from 1 to ${n}`);
  return { index, count: n };
}

/** The points of shard i/N: positions i-1, i-1+N, i-1+2N … of the run list. */
export function shardPoints<T>(points: readonly T[], shard: Shard | null | undefined): T[] {
  if (!shard) return [...points];
  return points.filter((_, pos) => pos % shard.count === shard.index - 1);
}
