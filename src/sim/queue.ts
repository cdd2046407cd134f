/**
 * DOC: the engine's queue of future events — a timing wheel in front of the event heap.
 *
 * Events due in less than WHEEL ns (at integer times, pushed at an integer time) go to a circular
 * array of FIFO buckets, one per nanosecond; the rest go to the (time, sequence) heap. Pushing to a bucket is an append
 * and popping is a read at its head, with no sifting, so the common near-future delay costs O(1)
 * and touches memory sequentially.
 *
 * The order is still exactly (time, sequence):
 *  - within a bucket, events are in push order, which is sequence order, and a bucket only ever
 *    holds one time, because every wheel event lies in [floor(now), floor(now) + WHEEL) (it was
 *    pushed at an integer time <= now, less than WHEEL ns ahead) and time only moves forward to
 *    the earliest pending event;
 *  - an event in the heap and one in the wheel with the same time: the heap's was pushed when
 *    that time was still WHEEL ns or more away, so before the wheel's — the heap's goes first.
 * A non-empty bucket is found through a bitmap of non-empty buckets.
 */
import { EventHeap } from './heap.js';

const WHEEL_BITS = 10;
const WHEEL = 1 << WHEEL_BITS;
const MASK = WHEEL - 1;
const WORDS = WHEEL >>> 5;

/** index of the lowest set bit of a non-zero 32-bit word */
function ctz(x: number): number {
  return 31 - Math.clz32(x & -x);
}

export class FutureQueue<T> {
  /**
   * Wheel events are nodes of one pool shared by all buckets (so memory follows the number of
   * pending events, not the busiest moment of every bucket): parallel arrays indexed by node,
   * each bucket a singly-linked FIFO, freed nodes on a free list (reused while still cached).
   */
  private kinds = new Uint8Array(1024);
  private nexts = new Int32Array(1024);
  private readonly targets: (T | null)[] = [];
  private readonly vals: unknown[] = [];
  private nodes = 0;
  private freeNode = -1;
  private readonly heads = new Int32Array(WHEEL).fill(-1);
  private readonly tails = new Int32Array(WHEEL).fill(-1);
  /** bit b set = bucket b is non-empty */
  private readonly bits = new Int32Array(WORDS);
  private wheelCount = 0;
  private readonly heap = new EventHeap<T>();

  /** where topT() found the earliest event: a bucket, or -1 for the heap */
  private topBucket = -1;
  private topTime = Infinity;

  /** the event popTop() removed */
  outT = 0;
  outKind = 0;
  outTarget: T | null = null;
  outVal: unknown = undefined;

  get size(): number {
    return this.wheelCount + this.heap.size;
  }

  /**
   * Would an event at `t` pushed at `now` go to the heap? Then it may be pushed later with the
   * sequence number it would have had now (pushHeap): among events of its time the heap orders
   * by sequence, and a wheel event of that time is pushed later than `now` (see the DOC above).
   */
  goesToHeap(now: number, t: number): boolean {
    return !(t - now < WHEEL && Math.floor(t) === t && Math.floor(now) === now);
  }

  /** push an event to the heap with a sequence number reserved earlier (see goesToHeap) */
  pushHeap(t: number, seq: number, kind: number, target: T | null, val: unknown): void {
    this.heap.push(t, seq, kind, target, val);
  }

  /** schedule an event at `t` > now; `seq` orders it among events of the same time */
  push(now: number, t: number, seq: number, kind: number, target: T | null, val: unknown): void {
    if (t - now < WHEEL && Math.floor(t) === t && Math.floor(now) === now) {
      let n = this.freeNode;
      if (n >= 0) {
        this.freeNode = this.nexts[n]!;
        this.targets[n] = target;
        this.vals[n] = val;
      } else {
        n = this.nodes++;
        if (n === this.kinds.length) this.grow();
        this.targets.push(target);
        this.vals.push(val);
      }
      this.kinds[n] = kind;
      this.nexts[n] = -1;
      const b = t & MASK;
      const tail = this.tails[b]!;
      if (tail < 0) {
        this.heads[b] = n;
        this.bits[b >>> 5]! |= 1 << (b & 31);
      } else {
        this.nexts[tail] = n;
      }
      this.tails[b] = n;
      this.wheelCount++;
    } else {
      this.heap.push(t, seq, kind, target, val);
    }
  }

  /** time of the earliest event (Infinity if none); remembers where it is for popTop() */
  topT(now: number): number {
    const ht = this.heap.topT();
    if (this.wheelCount === 0) {
      this.topBucket = -1;
      return ht;
    }
    // now may be fractional (an event at a fractional time went by): count from its floor
    const base = Math.floor(now);
    const start = base & MASK;
    const b = this.firstBucket(start);
    const wt = base + ((b - start) & MASK);
    if (ht <= wt) {
      this.topBucket = -1;
      return ht;
    }
    this.topBucket = b;
    this.topTime = wt;
    return wt;
  }

  /** remove the event topT() found (call topT() first) */
  popTop(): void {
    const b = this.topBucket;
    if (b < 0) {
      const heap = this.heap;
      heap.pop();
      this.outT = heap.outT;
      this.outKind = heap.outKind;
      this.outTarget = heap.outTarget;
      this.outVal = heap.outVal;
      return;
    }
    const n = this.heads[b]!;
    this.outT = this.topTime;
    this.outKind = this.kinds[n]!;
    this.outTarget = this.targets[n]!;
    this.outVal = this.vals[n];
    this.targets[n] = null;
    this.vals[n] = undefined;
    const next = this.nexts[n]!;
    this.heads[b] = next;
    if (next < 0) {
      this.tails[b] = -1;
      this.bits[b >>> 5]! &= ~(1 << (b & 31));
    }
    this.nexts[n] = this.freeNode;
    this.freeNode = n;
    this.wheelCount--;
  }

  private grow(): void {
    const kinds = new Uint8Array(this.kinds.length * 2);
    kinds.set(this.kinds);
    const nexts = new Int32Array(this.nexts.length * 2);
    nexts.set(this.nexts);
    this.kinds = kinds;
    this.nexts = nexts;
  }

  /** first non-empty bucket at or after `start`, circularly (the wheel is not empty) */
  private firstBucket(start: number): number {
    const bits = this.bits;
    let w = start >>> 5;
    let word = bits[w]! & (-1 << (start & 31));
    for (let k = 0; k <= WORDS; k++) {
      if (word !== 0) return (w << 5) + ctz(word);
      w = (w + 1) & (WORDS - 1);
      word = bits[w]!;
    }
    throw new Error('timing wheel: no bucket found');
  }
}
