/**
 * DOC: what a schedule is — every decision the kernel leaves to chance, drawn from one source:
 * the order of events due at the same instant (the engine's TieBreak), durations within their
 * declared ranges, whether a signal is sent. `random` draws them from the seed; `pct` gives each
 * process a random priority and lowers the running one at D-1 random change points
 * (probabilistic concurrency testing). Every decision is recorded, so a schedule is replayable.
 */
import { Rng, streamSeed, type Process, type TieBreak } from '../../sim/index.js';

export type Strategy = 'random' | 'pct';

export interface Decision {
  kind: 'tie' | 'duration' | 'chance';
  /** virtual time, ns */
  t: number;
  n: number;
  k: number;
  /** for ties: the process names of the candidates */
  names?: string[];
}

export class Choices implements TieBreak {
  readonly decisions: Decision[] = [];
  private readonly rng: Rng;
  private readonly prio = new Map<number, number>();
  private readonly changeAt: Set<number>;
  private ties = 0;
  now: () => number = () => 0;

  constructor(
    readonly strategy: Strategy,
    readonly seed: number,
    depth = 3,
    /** expected tie decisions in one run (where pct's change points may fall) */
    horizon = 64,
  ) {
    // mixed: xoroshiro's first draws from consecutive small seeds are nearly equal
    this.rng = new Rng(streamSeed(seed, 'explore'));
    this.changeAt = new Set();
    if (strategy === 'pct') for (let i = 1; i < depth; i++) this.changeAt.add(this.rng.int(0, horizon - 1));
  }

  choose(n: number, who: (i: number) => Process | null): number {
    let k: number;
    const names: string[] = [];
    for (let i = 0; i < n; i++) names.push(who(i)?.name ?? '(timer)');
    if (this.strategy === 'random') k = this.rng.int(0, n - 1);
    else {
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
    this.decisions.push({ kind: 'tie', t: this.now(), n, k, names });
    return k;
  }

  /** an integer ns in [lo, hi] */
  duration(lo: number, hi: number): number {
    const k = hi > lo ? this.rng.int(0, hi - lo) : 0;
    this.decisions.push({ kind: 'duration', t: this.now(), n: hi - lo + 1, k });
    return lo + k;
  }

  chance(p: number): boolean {
    const k = p >= 1 ? 1 : p <= 0 ? 0 : this.rng.float() < p ? 1 : 0;
    this.decisions.push({ kind: 'chance', t: this.now(), n: 2, k });
    return k === 1;
  }
}
