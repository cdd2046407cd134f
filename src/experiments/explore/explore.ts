/**
 * DOC: the explorer — many schedules of one scenario on one preset; the distinct outcomes with
 * count, share, a 95% (Wilson) interval and the first schedule that produced each. Random and pct
 * seeds run in order from --seed, so a resumed or interrupted exploration is a prefix of the
 * full one. `exhaustive` walks the tree of decisions depth first (choices.ts lists each
 * decision's alternatives, with partial-order reduction at ties): every tie order and CPU
 * hand-over with at most D of them out of FIFO order (delay bounding; D is --depth), `points` values of each duration
 * range, both sides of each chance; its cursor (the next path) is part of the exploration, so it
 * resumes too. The budget is --runs schedules; `complete` says whether the tree was walked whole.
 *
 * The bound is deepened step by step (iterative delay bounding): first every schedule with all
 * ties and hand-overs in FIFO order (the durations' points and the chances varied), then those
 * with exactly 1 out of order, … up to D. A walk at bound L runs the schedules with fewer again
 * (they lead to the new ones) but counts only those with exactly L, so each schedule is counted
 * once and a complete walk gives the same counts as one walk at bound D; a budget spent before the
 * end has covered the schedules closest to FIFO first instead of every order of the last few
 * decisions (one depth-first walk at bound 3 of get_fs_type-alias spent 1,000 schedules there and
 * found 1 of its 3 outcomes). A level in which the bound cut no branch has walked the whole tree:
 * the walk is complete there, whatever D.
 */
import type { Machine } from '../../userspace/machines/load.js';
import { defaultOf, pathOf, pathText, type Decision, type Strategy } from './choices.js';
import { runSchedule } from './run.js';
import type { Scenario } from './scenario.js';
import { failing, shrink, type Shrunk } from './shrink.js';

export interface OutcomeRow {
  key: string;
  count: number;
  firstSeed: number;
  /** exhaustive: the path of the first schedule that gave it (`--replay SEED --path P`) */
  firstPath?: string;
  /** exhaustive: which schedule of the walk (1-based) gave it first */
  firstRun?: number;
  /** the smallest schedule found that still gives it (rare or failing outcomes) */
  shrunk?: Shrunk;
}

export interface Exploration {
  scenario: string;
  kernel: string;
  strategy: Strategy;
  depth: number;
  seed: number;
  runs: number;
  outcomes: OutcomeRow[];
  /** exhaustive: values per duration range */
  points?: number;
  /** exhaustive: the next path to run, null once the tree is walked whole */
  cursor?: number[] | null;
  /** exhaustive: every schedule within the bound was run */
  complete?: boolean;
  /** exhaustive: the bound being walked (ties and hand-overs out of FIFO order), 0..depth;
   * absent in a file of an older walk, which runs at bound `depth` counting every schedule */
  level?: number;
  /** exhaustive: the walk at `level` has cut a branch (a deeper level has schedules to add) */
  levelCut?: boolean;
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
  /** exhaustive: values per duration range (default 3: low end, middle, high end) */
  points?: number;
  /** stop early when true (Ctrl-C, budget): what ran so far is kept */
  stop?: () => boolean;
  /** called after every run */
  progress?: (e: Exploration) => void;
}

/**
 * The next path of a depth-first walk after a run with decisions `ds`: the deepest decision with
 * an alternative not tried yet (alternatives are tried in order, the default first), within the
 * bound of `depth` ties off their default; null when the walk is done.
 */
/** ties and hand-overs off their default in a run */
export function offDefault(ds: readonly Decision[]): number {
  let off = 0;
  for (const d of ds) if ((d.kind === 'tie' || d.kind === 'cpu') && d.k !== defaultOf(d)) off++;
  return off;
}

/** did the bound `depth` cut a branch of this run (a tie or hand-over left at its default with others to try)? */
export function boundCut(ds: readonly Decision[], depth: number): boolean {
  let off = 0;
  for (const d of ds) {
    if (d.kind !== 'tie' && d.kind !== 'cpu') continue;
    const def = defaultOf(d);
    if (d.k !== def) off++;
    else if (off >= depth && (d.alts ?? [0]).length > 1) return true;
  }
  return false;
}

export function nextPath(ds: readonly Decision[], depth: number): number[] | null {
  let off = 0;
  const offBefore: number[] = [];
  for (const d of ds) {
    offBefore.push(off);
    if ((d.kind === 'tie' || d.kind === 'cpu') && d.k !== defaultOf(d)) off++;
  }
  for (let j = ds.length - 1; j >= 0; j--) {
    const d = ds[j]!;
    const alts = d.alts ?? [0];
    const at = alts.indexOf(d.k);
    if (at < 0 || at + 1 >= alts.length) continue;
    if ((d.kind === 'tie' || d.kind === 'cpu') && offBefore[j]! + 1 > depth) continue;
    return [...ds.slice(0, j).map((x) => x.k), alts[at + 1]!];
  }
  return null;
}

export function explore(sc: Scenario, machine: Machine, o: ExploreOptions, from?: Exploration): Exploration {
  const exhaustive = o.strategy === 'exhaustive';
  const e: Exploration = from ?? {
    scenario: sc.name, kernel: o.kernel, strategy: o.strategy, depth: o.depth, seed: o.seed, runs: 0, outcomes: [],
    ...(exhaustive ? { points: o.points ?? 3, cursor: [], complete: false, level: 0, levelCut: false } : {}),
  };
  const byKey = new Map(e.outcomes.map((r) => [r.key, r]));
  while (e.runs < o.runs && !(o.stop?.() ?? false)) {
    if (exhaustive && (e.cursor === null || e.cursor === undefined)) break;
    const seed = exhaustive ? o.seed : o.seed + e.runs;
    const r = runSchedule(sc, machine, { kernel: o.kernel, strategy: o.strategy, seed, depth: o.depth, names: false, ...(exhaustive ? { path: e.cursor!, points: e.points ?? 3 } : {}) });
    if (exhaustive && e.level !== undefined) {
      // iterative deepening: a run with fewer off-FIFO decisions was counted at its own level
      const ds = r.choices.decisions;
      const counted = offDefault(ds) === e.level;
      if (!e.levelCut && boundCut(ds, e.level)) e.levelCut = true;
      let next = nextPath(ds, e.level);
      if (next === null && e.levelCut && e.level < o.depth) {
        e.level++;
        e.levelCut = false;
        next = [];
      }
      e.cursor = next;
      e.complete = next === null;
      if (!counted) continue;
      e.runs++;
      let row = byKey.get(r.key);
      if (row === undefined) {
        row = { key: r.key, count: 0, firstSeed: seed, firstPath: pathText(pathOf(ds)), firstRun: e.runs };
        byKey.set(r.key, row);
        e.outcomes.push(row);
      }
      row.count++;
      o.progress?.(e);
      continue;
    }
    let row = byKey.get(r.key);
    if (row === undefined) {
      row = { key: r.key, count: 0, firstSeed: seed, ...(exhaustive ? { firstPath: pathText(pathOf(r.choices.decisions)), firstRun: e.runs + 1 } : {}) };
      byKey.set(r.key, row);
      e.outcomes.push(row);
    }
    row.count++;
    e.runs++;
    if (exhaustive) {
      e.cursor = nextPath(r.choices.decisions, o.depth);
      e.complete = e.cursor === null;
    }
    o.progress?.(e);
  }
  e.outcomes.sort((a, b) => b.count - a.count || a.firstSeed - b.firstSeed || (a.firstRun ?? 0) - (b.firstRun ?? 0));
  return e;
}

/** rare (under 20% of the schedules) or failing (a hang, an error return, a non-zero exit) */
export function rareOrFailing(r: OutcomeRow, runs: number): boolean {
  return r.count / runs < 0.2 || failing(r.key);
}

export interface ShrinkAllOptions {
  /** candidate schedules per outcome */
  budget?: number;
  /** stop early (Ctrl-C): outcomes not shrunk yet stay so */
  stop?: () => boolean;
}

/** Shrink one outcome of an exploration (if rare or failing and not shrunk yet); true if it did. */
export function shrinkOutcome(sc: Scenario, machine: Machine, e: Exploration, r: OutcomeRow, o: ShrinkAllOptions = {}): boolean {
  if (!rareOrFailing(r, e.runs)) {
    // shrunk when an earlier, shorter exploration (resumed with more --runs) found it rare
    delete r.shrunk;
    return false;
  }
  if (r.shrunk !== undefined) return false;
  const path = r.firstPath !== undefined ? r.firstPath.split(':').filter((x) => x !== '').map(Number) : undefined;
  r.shrunk = shrink(sc, machine, { kernel: e.kernel, strategy: e.strategy, seed: r.firstSeed, depth: e.depth, points: e.points ?? 3, ...(path ? { path } : {}), ...(o.budget !== undefined ? { budget: o.budget } : {}) });
  return true;
}

/** Shrink the rare or failing outcomes of an exploration that are not shrunk yet. */
export function shrinkOutcomes(sc: Scenario, machine: Machine, e: Exploration, o: ShrinkAllOptions = {}): void {
  for (const r of e.outcomes) {
    if (o.stop?.() ?? false) return;
    shrinkOutcome(sc, machine, e, r, o);
  }
}
