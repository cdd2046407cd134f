/**
 * DOC: what a schedule is — every decision the kernel leaves to chance, drawn from one source:
 * the order of events due at the same instant (the engine's TieBreak), which queued process gets
 * a freed CPU when fewer CPUs than runnable processes (the CPU pool's CpuPlacement: the CPUs are
 * interchangeable, so this is "which CPU runs what"), durations within their declared ranges,
 * whether a signal is sent. `random` draws them from the seed (a duration uniformly over its
 * whole range, to the ns); `pct` gives each process a random priority — the highest runs first
 * at a tie and gets the CPU at a hand-over — and lowers the running one at D-1 change points
 * drawn among the run's decisions (probabilistic concurrency testing: the points are uniform
 * over k, the number of tie and hand-over decisions of the scenario's all-defaults schedule). Every decision is recorded, so a schedule is
 * replayable.
 *
 * A schedule can also be given as a path: the value of each decision in the order they are made
 * (a tie's index, a duration's offset in ns above its range's low end, 0/1 for a chance), and
 * beyond the path's end each decision's default (the first of its alternatives). The recorded
 * decisions of any run, random or pct, are such a path, so shrinking and the exhaustive
 * enumeration (both in path mode) speak the same language as `--replay SEED --path P`.
 *
 * In path mode every decision also lists its alternatives, for the exhaustive enumeration: all
 * tie orders and CPU hand-overs, `points` evenly spaced values of a duration range (its ends
 * included: 3 is low end, midpoint, high end — a finite set, so the walk can be complete), both
 * sides of a chance. Partial-order reduction: a step that cannot affect any other step — a scenario
 * process's first step, which only parks it on its own start delay, or a signal delivered to a
 * process that has not taken that step yet — commutes with every other event due at that
 * instant, so running it first loses no outcome; a tie that has one has that single alternative.
 */
import { Rng, streamSeed, type CpuPlacement, type Process, type TieBreak } from '../../sim/index.js';

/** the strategies a user picks (`--strategy`) */
export type Strategy = 'random' | 'pct' | 'exhaustive';
/** how a Choices decides: drawn from the seed, or read from a path */
export type Mode = 'random' | 'pct' | 'path';

export interface Decision {
  /** cpu: which queued process gets a freed CPU (fewer CPUs than runnable processes) */
  kind: 'tie' | 'cpu' | 'duration' | 'chance';
  /** virtual time, ns */
  t: number;
  /** how many values the decision had (a duration: hi - lo + 1) */
  n: number;
  /** the value taken */
  k: number;
  /** for ties and CPU hand-overs: the process names of the candidates */
  names?: string[];
  /** for durations and chances: what was decided, in words (the step list) */
  label?: string;
  /** for durations: the range's low end, ns */
  lo?: number;
  /** for chances: the probability */
  p?: number;
  /** path mode only: the values the exhaustive enumeration tries, the default first */
  alts?: number[];
}

export interface ChoicesOptions {
  mode: Mode;
  seed: number;
  /** pct: the depth D (D-1 priority change points) */
  depth?: number;
  /** pct: expected tie and hand-over decisions in one run (where the change points may fall;
   * the runner gives the count of the scenario's all-defaults schedule) */
  horizon?: number;
  /** path mode: the decisions' values, in order */
  path?: readonly number[];
  /** path mode: how many values of a duration range the exhaustive enumeration tries */
  points?: number;
  /** record the candidates' names at ties and hand-overs (default true; the explorer's own
   * random and pct runs need only the outcome, and 62 queued names per hand-over cost) */
  names?: boolean;
}

export class Choices implements TieBreak, CpuPlacement {
  readonly decisions: Decision[] = [];
  readonly mode: Mode;
  private readonly rng: Rng;
  private readonly prio = new Map<number, number>();
  private readonly changeAt: Set<number>;
  private readonly path: readonly number[];
  private readonly points: number;
  private ties = 0;
  private readonly keepNames: boolean;
  now: () => number = () => 0;
  /** path mode: is the step this process is due for one that cannot affect any other? (set by the runner) */
  local: (p: Process) => boolean = () => false;

  constructor(o: ChoicesOptions) {
    this.mode = o.mode;
    // mixed: xoroshiro's first draws from consecutive small seeds are nearly equal
    this.rng = new Rng(streamSeed(o.seed, 'explore'));
    this.changeAt = new Set();
    this.path = o.path ?? [];
    this.points = Math.max(2, o.points ?? 3);
    this.keepNames = o.names ?? true;
    // D-1 distinct change points among the run's tie and hand-over decisions (fewer if it has fewer)
    const horizon = Math.max(1, o.horizon ?? 64);
    if (o.mode === 'pct') while (this.changeAt.size < Math.min((o.depth ?? 3) - 1, horizon)) this.changeAt.add(this.rng.int(0, horizon - 1));
  }

  /** path mode: the path's value for the next decision, or the default, kept in [0, n) */
  private fromPath(n: number, alts: number[]): number {
    const i = this.decisions.length;
    const v = i < this.path.length ? this.path[i]! : alts[0]!;
    return Math.min(Math.max(0, v), n - 1);
  }

  choose(n: number, who: (i: number) => Process | null): number {
    return this.pick('tie', n, who);
  }

  /** CPU placement: which of the n queued processes (FIFO order) gets the CPU just freed */
  place(n: number, who: (i: number) => Process): number {
    return this.pick('cpu', n, who);
  }

  /** one of n candidates, 0 the FIFO one: a tie at one instant or a CPU hand-over */
  private pick(kind: 'tie' | 'cpu', n: number, who: (i: number) => Process | null): number {
    let k: number;
    let names: string[] | undefined;
    if (this.keepNames) {
      names = [];
      for (let i = 0; i < n; i++) names.push(who(i)?.name ?? '(timer)');
    }
    let alts: number[] | undefined;
    if (this.mode === 'path') {
      let first = -1;
      // partial-order reduction applies to ties only: a queued process has taken its first step
      for (let i = 0; i < n && first < 0 && kind === 'tie'; i++) {
        const p = who(i);
        if (p !== null && this.local(p)) first = i;
      }
      alts = first >= 0 ? [first] : Array.from({ length: n }, (_, i) => i);
      k = this.fromPath(n, alts);
    } else if (this.mode === 'random') k = this.rng.int(0, n - 1);
    else {
      // pct: the highest-priority candidate runs (or gets the CPU), at ties and hand-overs alike
      k = 0;
      let best = -Infinity;
      for (let i = 0; i < n; i++) {
        const p = who(i);
        const pid = p?.pid ?? 0;
        let pr = this.prio.get(pid);
        if (pr === undefined) this.prio.set(pid, (pr = 1000 + this.rng.int(0, 1_000_000)));
        if (pr > best) {
          best = pr;
          k = i;
        }
      }
      if (this.changeAt.has(this.ties)) this.prio.set(who(k)?.pid ?? 0, this.ties);
    }
    this.ties++;
    this.decisions.push({ kind, t: this.now(), n, k, ...(names ? { names } : {}), ...(alts ? { alts } : {}) });
    return k;
  }

  /** an integer ns in [lo, hi]; `label` says what lasts that long */
  duration(lo: number, hi: number, label = 'duration'): number {
    let k: number;
    let alts: number[] | undefined;
    if (this.mode === 'path') {
      const span = hi - lo;
      alts = span <= 0 ? [0] : [...new Set(Array.from({ length: this.points }, (_, i) => Math.round((i * span) / (this.points - 1))))];
      k = this.fromPath(span + 1, alts);
    } else k = hi > lo ? this.rng.int(0, hi - lo) : 0;
    this.decisions.push({ kind: 'duration', t: this.now(), n: hi - lo + 1, k, label, lo, ...(alts ? { alts } : {}) });
    return lo + k;
  }

  /** true with probability p; `label` names what happens then */
  chance(p: number, label = 'chance'): boolean {
    let k: number;
    let alts: number[] | undefined;
    if (this.mode === 'path') {
      alts = p >= 1 ? [1] : p <= 0 ? [0] : [0, 1];
      k = this.fromPath(2, alts);
      // a path cannot make a certain event fail or an impossible one happen
      if (p >= 1) k = 1;
      if (p <= 0) k = 0;
    } else k = p >= 1 ? 1 : p <= 0 ? 0 : this.rng.float() < p ? 1 : 0;
    this.decisions.push({ kind: 'chance', t: this.now(), n: 2, k, label, p, ...(alts ? { alts } : {}) });
    return k === 1;
  }
}

/** a path as text: the decisions' values joined by ':' (fast-check's notation), trailing defaults left off */
export function pathText(path: readonly number[]): string {
  return path.join(':');
}

/** parse `--path`: colon-separated non-negative integers ('' is the all-defaults path) */
export function parsePath(s: string): number[] | null {
  if (s === '') return [];
  const parts = s.split(':');
  if (!parts.every((p) => /^\d+$/.test(p))) return null;
  const out = parts.map(Number);
  return out.every(Number.isSafeInteger) ? out : null;
}

/** the values of a run's decisions as a path, without the trailing ones that are the defaults */
export function pathOf(ds: readonly Decision[]): number[] {
  const out = ds.map((d) => d.k);
  let end = out.length;
  while (end > 0 && out[end - 1] === defaultOf(ds[end - 1]!)) end--;
  return out.slice(0, end);
}

/** the value a decision takes beyond a path's end */
export function defaultOf(d: Decision): number {
  if (d.alts !== undefined) return d.alts[0]!;
  if (d.kind === 'chance') return (d.p ?? 0) >= 1 ? 1 : 0;
  return 0;
}

function ms(ns: number): string {
  return `${(ns / 1e6).toFixed(3)} ms`;
}

/** one decision as a line of a readable step list */
export function stepText(d: Decision): string {
  const at = `t=${(d.t / 1e6).toFixed(3)}ms`;
  if (d.kind === 'tie') return `${at} ${d.names![d.k]} runs before ${d.names!.filter((_, i) => i !== d.k).join(', ')}`;
  if (d.kind === 'cpu') return `${at} a CPU frees: ${d.names![d.k]} gets it before ${d.names!.filter((_, i) => i !== d.k).join(', ')}`;
  if (d.kind === 'duration') {
    const lo = d.lo ?? 0;
    return `${at} ${d.label ?? 'duration'} ${ms(lo + d.k)} (range ${ms(lo)}..${ms(lo + d.n - 1)})`;
  }
  return `${at} ${d.label ?? 'chance'}: ${d.k === 1 ? 'yes' : 'no'} (p=${d.p ?? '?'})`;
}

/** the steps worth reading: every duration and chance, and the ties and CPU hand-overs not in FIFO order */
export function readableSteps(ds: readonly Decision[]): string[] {
  return ds.filter((d) => (d.kind !== 'tie' && d.kind !== 'cpu') || d.k !== 0).map(stepText);
}
