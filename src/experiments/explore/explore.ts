/**
 * DOC: the explorer — many schedules of one scenario on one preset; the distinct outcomes with
 * count, share, a 95% (Wilson) interval and the first seed that produced each. Seeds run in
 * order 1, 2, … from --seed, so a resumed or interrupted exploration is a prefix of the full one.
 */
import type { Machine } from '../../userspace/machines/load.js';
import type { Strategy } from './choices.js';
import { runSchedule } from './run.js';
import type { Scenario } from './scenario.js';

export interface OutcomeRow {
  key: string;
  count: number;
  firstSeed: number;
}

export interface Exploration {
  scenario: string;
  kernel: string;
  strategy: Strategy;
  depth: number;
  seed: number;
  runs: number;
  outcomes: OutcomeRow[];
}

/** Wilson score interval at 95% */
export function wilson(k: number, n: number): [number, number] {
  if (n === 0) return [0, 1];
  const z = 1.96;
  const p = k / n;
  const d = 1 + (z * z) / n;
  const c = p + (z * z) / (2 * n);
  const r = z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return [Math.max(0, (c - r) / d), Math.min(1, (c + r) / d)];
}

export interface ExploreOptions {
  kernel: string;
  strategy: Strategy;
  depth: number;
  seed: number;
  runs: number;
  /** stop early when true (Ctrl-C, budget): what ran so far is kept */
  stop?: () => boolean;
  /** called after every run */
  progress?: (e: Exploration) => void;
}

export function explore(sc: Scenario, machine: Machine, o: ExploreOptions, from?: Exploration): Exploration {
  const e: Exploration = from ?? { scenario: sc.name, kernel: o.kernel, strategy: o.strategy, depth: o.depth, seed: o.seed, runs: 0, outcomes: [] };
  const byKey = new Map(e.outcomes.map((r) => [r.key, r]));
  while (e.runs < o.runs && !(o.stop?.() ?? false)) {
    const seed = o.seed + e.runs;
    const { key } = runSchedule(sc, machine, { kernel: o.kernel, strategy: o.strategy, seed, depth: o.depth });
    let row = byKey.get(key);
    if (row === undefined) {
      row = { key, count: 0, firstSeed: seed };
      byKey.set(key, row);
      e.outcomes.push(row);
    }
    row.count++;
    e.runs++;
    o.progress?.(e);
  }
  e.outcomes.sort((a, b) => b.count - a.count || a.firstSeed - b.firstSeed);
  return e;
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

export function formatExploration(e: Exploration): string {
  const lines = [`${e.scenario} on ${e.kernel}: ${e.runs} schedules (${e.strategy}${e.strategy === 'pct' ? ` depth ${e.depth}` : ''}, seeds ${e.seed}..${e.seed + e.runs - 1}), ${e.outcomes.length} distinct outcome${e.outcomes.length === 1 ? '' : 's'}`];
  for (const r of e.outcomes) {
    const [lo, hi] = wilson(r.count, e.runs);
    lines.push(`  ${String(r.count).padStart(6)}  ${pct(r.count / e.runs).padStart(6)}  [${pct(lo)}, ${pct(hi)}]  seed ${r.firstSeed}`);
    lines.push(`      ${r.key}`);
  }
  return lines.join('\n') + '\n';
}
