/**
 * DOC: seeded randomness with independent named streams.
 *
 * One --seed decides a whole run. Each part of the model draws from its own stream
 * (`sim.rng.stream('udev')`), derived from the seed and the stream's name, so adding a random
 * draw in one part does not shift the numbers another part sees. The generator is pure-rand's
 * xoroshiro128+.
 */
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';

type Generator128 = ReturnType<typeof xoroshiro128plus>;

/** 32-bit FNV-1a of a string, then murmur3's finaliser mixed with the seed. */
export function streamSeed(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ (seed | 0);
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= Math.imul(seed | 0, 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

export class Rng {
  private g: Generator128;
  constructor(seed: number) {
    this.g = xoroshiro128plus(seed);
  }
  /** integer in [min, max] */
  int(min: number, max: number): number {
    return uniformInt(this.g, min, max);
  }
  /** float in [0, 1) */
  float(): number {
    return uniformFloat64(this.g);
  }
  /** true with probability p */
  chance(p: number): boolean {
    return this.float() < p;
  }
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new RangeError('pick() from an empty list');
    return xs[this.int(0, xs.length - 1)]!;
  }
  /** integer ns around `mean` with a relative uniform jitter (±jitter·mean), never negative */
  jitter(mean: number, jitter: number): number {
    if (jitter <= 0 || mean <= 0) return Math.max(0, Math.round(mean));
    const lo = mean * (1 - jitter);
    return Math.max(0, Math.round(lo + this.float() * 2 * jitter * mean));
  }
  /** Fisher–Yates shuffle in place */
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      const t = xs[i]!;
      xs[i] = xs[j]!;
      xs[j] = t;
    }
    return xs;
  }
}

export class RngStreams {
  private streams = new Map<string, Rng>();
  constructor(readonly seed: number) {}
  stream(name: string): Rng {
    let r = this.streams.get(name);
    if (r === undefined) {
      r = new Rng(streamSeed(this.seed, name));
      this.streams.set(name, r);
    }
    return r;
  }
}
