/**
 * DOC: shrinking — the smallest schedule found that still gives an outcome.
 *
 * A seed that produced a rare or failing outcome is a long list of decisions, most of them
 * irrelevant. Like fast-check, the shrinker tries simpler candidates and keeps the first that
 * still gives the same outcome, until none does (or its run budget is spent). Simpler means, in
 * the order tried:
 *   1. fewer processes — a scenario process left out; "the same outcome" is then the outcome's
 *      key without that process's part (every other process, module state and the waste equal).
 *      A process whose own result is a failure (a hang, an error, NULL) is never left out: it is
 *      the outcome, not a bystander;
 *   2. fewer perturbations — a stretch of decisions back to their defaults (FIFO order at a
 *      tie or a CPU hand-over, no signal at a chance, the low end of a range), in halving stretches (delta debugging)
 *      so a 2,000-decision schedule shrinks in tens of runs, not thousands;
 *   3. shorter durations — all offsets above their ranges' low ends halved at once, then each
 *      duration bisected to the smallest offset (to 1 µs) that still gives the outcome: a signal
 *      sent after a sleep or a start delay so arrives as early as the outcome allows.
 * The result is a seed, a path (the decisions' values, trailing defaults left off) and the
 * processes left out: `--replay SEED --path P --drop NAMES` runs it again, and its readable step
 * list says what happens in it.
 */
import type { Machine } from '../../userspace/machines/load.js';
import { defaultOf, pathOf, pathText, readableSteps, type Decision, type Strategy } from './choices.js';
import { projectKey, runSchedule } from './run.js';
import type { Scenario } from './scenario.js';

/** a duration is moved toward its range's low end until within this much of the smallest that keeps the outcome */
const SETTLE_NS = 1000;

export interface Shrunk {
  seed: number;
  /** the decisions' values (a `--path`) */
  path: string;
  /** scenario processes left out (`--drop`) */
  drop: string[];
  /** the outcome key of the shrunk schedule (the original without the dropped processes' parts) */
  key: string;
  /** the readable step list */
  steps: string[];
  /** decisions in the original schedule and in the shrunk one (non-default ones) */
  from: number;
  to: number;
  /** schedules run while shrinking */
  runs: number;
}

export interface ShrinkOptions {
  kernel: string;
  /** how the original schedule was drawn */
  strategy: Strategy;
  seed: number;
  depth: number;
  /** the original's path, when it was one (exhaustive) */
  path?: readonly number[];
  points?: number;
  /** candidate schedules at most (default 400) */
  budget?: number;
}

function nonDefault(ds: readonly Decision[]): number {
  return ds.filter((d) => d.k !== defaultOf(d)).length;
}

/** a hang, an error return, a non-zero exit or a NULL lookup in an outcome key (or a part of one) */
export function failing(text: string): boolean {
  return /\bhang\b|-E[A-Z]|exit [1-9]|NULL/.test(text);
}

/** what a decision is about, to find it again in a run whose decisions shifted */
function identity(d: Decision): string {
  return d.kind === 'tie' || d.kind === 'cpu' ? `${d.kind} ${[...d.names!].sort().join(',')}` : `${d.kind} ${d.label ?? ''}`;
}

function sameShape(a: readonly Decision[], b: readonly Decision[]): boolean {
  return a.length === b.length && a.every((d, i) => identity(d) === identity(b[i]!));
}

/**
 * A path for a run shaped like `now` that keeps `path` up to `from` and, after it, gives each
 * decision the value of the first unused decision of `old` (after `from`) about the same thing.
 */
function align(old: readonly Decision[], now: readonly Decision[], path: readonly number[], from: number): number[] {
  const out = path.slice(0, from);
  // the old decisions after `from`, in order, by what they decide
  const byId = new Map<string, number[]>();
  for (let j = old.length - 1; j >= from; j--) {
    const id = identity(old[j]!);
    const q = byId.get(id);
    if (q === undefined) byId.set(id, [j]);
    else q.push(j);
  }
  for (let i = from; i < now.length; i++) {
    const d = now[i]!;
    const j = byId.get(identity(d))?.pop();
    if (j === undefined) {
      out.push(defaultOf(d));
      continue;
    }
    const o = old[j]!;
    // a tie's value is an index: keep the process it chose, wherever it is now
    out.push(o.kind === 'tie' || o.kind === 'cpu' ? Math.max(0, d.names!.indexOf(o.names![o.k]!)) : o.k);
  }
  return out;
}

export function shrink(sc: Scenario, machine: Machine, o: ShrinkOptions): Shrunk {
  const budget = o.budget ?? 400;
  const base = { kernel: o.kernel, strategy: o.strategy, seed: o.seed, depth: o.depth, points: o.points ?? 3 };
  const first = runSchedule(sc, machine, o.path !== undefined ? { ...base, path: o.path } : base);
  const target = first.parts;
  // the recorded decisions as a path, run again in path mode: its decisions carry their defaults
  let drop: string[] = [];
  let cur = runSchedule(sc, machine, { ...base, path: first.choices.decisions.map((d) => d.k) });
  let runs = 2;
  if (cur.key !== first.key) throw new Error(`shrink: ${sc.name} seed ${o.seed} does not replay as a path`);
  const from = nonDefault(cur.choices.decisions);
  /** run a candidate; `from` is where it starts to differ from the current schedule */
  const tryRun = (path: number[], d: string[], from = 0): boolean => {
    runs++;
    let r = runSchedule(sc, machine, { ...base, path, drop: d });
    if (r.key !== projectKey(target, d) && runs < budget && !sameShape(r.choices.decisions, cur.choices.decisions)) {
      // the change made decisions come or go: the later ones keep their values by what they decide, not by position
      runs++;
      r = runSchedule(sc, machine, { ...base, path: align(cur.choices.decisions, r.choices.decisions, path, from), drop: d });
    }
    if (r.key !== projectKey(target, d)) return false;
    cur = r;
    drop = d;
    return true;
  };
  const values = (): number[] => cur.choices.decisions.map((d) => d.k);
  const settled = new Map<string, number>();
  let progress = true;
  while (progress && runs < budget) {
    progress = false;
    // 1. fewer processes
    for (const p of sc.processes) {
      if (runs >= budget) break;
      if (drop.includes(p.name) || drop.length + 1 >= sc.processes.length) continue;
      // a process whose own result is the failure is the outcome, not a bystander
      if (target.some((t) => t.proc === p.name && failing(t.text))) continue;
      if (tryRun(values(), [...drop, p.name])) {
        progress = true;
        break;
      }
    }
    if (progress) continue;
    // 2. fewer perturbations: stretches back to their defaults, halving
    const ds = cur.choices.decisions;
    for (let size = Math.max(1, ds.length >> 1); size >= 1 && !progress; size = size === 1 ? 0 : Math.max(1, size >> 1)) {
      for (let at = 0; at < ds.length && runs < budget; at += size) {
        const stretch = ds.slice(at, at + size);
        if (stretch.every((d) => d.k === defaultOf(d))) continue;
        const v = values();
        for (let i = at; i < at + stretch.length; i++) v[i] = defaultOf(ds[i]!);
        if (tryRun(v, drop, at + stretch.length)) {
          progress = true;
          break;
        }
      }
    }
    if (progress) continue;
    // 3. shorter durations: all at once (keeps their order), then one by one
    if (ds.filter((d) => d.kind === 'duration' && d.k > defaultOf(d)).length > 1 && runs < budget) {
      const v = values().map((k, i) => (ds[i]!.kind === 'duration' ? Math.floor(k / 2) : k));
      if (tryRun(v, drop)) continue;
    }
    // then each one toward its range's low end: the smallest offset that keeps the outcome,
    // bisected to SETTLE_NS (0 tried first); a settled value is not bisected again
    for (let i = 0; i < cur.choices.decisions.length && runs < budget; i++) {
      const d = cur.choices.decisions[i]!;
      const id = `${i} ${identity(d)}`;
      if (d.kind !== 'duration' || d.k <= defaultOf(d) || settled.get(id) === d.k) continue;
      const was = d.k;
      let lo = -1;
      let hi = d.k;
      while (hi - lo > (lo < 0 ? 1 : SETTLE_NS) && runs < budget) {
        const mid = lo < 0 ? 0 : lo + Math.floor((hi - lo) / 2);
        const v = values();
        v[i] = mid;
        if (tryRun(v, drop, i + 1)) hi = mid;
        else lo = lo < 0 ? 0 : mid;
        if (cur.choices.decisions[i]?.kind !== 'duration') break;
      }
      settled.set(id, hi);
      if (hi < was) progress = true;
    }
  }
  const ds = cur.choices.decisions;
  return { seed: o.seed, path: pathText(pathOf(ds)), drop, key: cur.key, steps: readableSteps(ds), from, to: nonDefault(ds), runs };
}
