/**
 * DOC: the event heap.
 *
 * A binary min-heap of pending events ordered by (time, sequence). The sequence number is given
 * at insertion, so two events due at the same virtual nanosecond fire in the order they were
 * scheduled: ties are deterministic, which is what makes a whole run replay from its seed.
 *
 * An event is (t, seq, kind, target, value). They are kept in parallel arrays rather than as
 * objects — keys in typed arrays — so scheduling allocates nothing and sifting touches only dense
 * numbers; pop() leaves the popped event in the heap's `out*` fields.
 */

export class EventHeap<T = unknown> {
  private ts = new Float64Array(1024);
  private seqs = new Float64Array(1024);
  private kinds = new Uint8Array(1024);
  private targets: (T | null)[] = [];
  private vals: unknown[] = [];
  private n = 0;

  /** the event pop() removed */
  outT = 0;
  outSeq = 0;
  outKind = 0;
  outTarget: T | null = null;
  outVal: unknown = undefined;

  get size(): number {
    return this.n;
  }

  /** time of the earliest event (Infinity if none) */
  topT(): number {
    return this.n > 0 ? this.ts[0]! : Infinity;
  }

  /** sequence number of the earliest event (Infinity if none) */
  topSeq(): number {
    return this.n > 0 ? this.seqs[0]! : Infinity;
  }

  push(t: number, seq: number, kind: number, target: T | null, val: unknown): void {
    if (this.n === this.ts.length) this.grow();
    const ts = this.ts;
    const seqs = this.seqs;
    const kinds = this.kinds;
    const targets = this.targets;
    const vals = this.vals;
    let i = this.n++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = ts[p]!;
      if (pt < t || (pt === t && seqs[p]! < seq)) break;
      ts[i] = pt;
      seqs[i] = seqs[p]!;
      kinds[i] = kinds[p]!;
      targets[i] = targets[p]!;
      vals[i] = vals[p];
      i = p;
    }
    ts[i] = t;
    seqs[i] = seq;
    kinds[i] = kind;
    targets[i] = target;
    vals[i] = val;
  }

  /** remove the earliest event into the out* fields; false if the heap is empty */
  pop(): boolean {
    if (this.n === 0) return false;
    const ts = this.ts;
    const seqs = this.seqs;
    const kinds = this.kinds;
    const targets = this.targets;
    const vals = this.vals;
    this.outT = ts[0]!;
    this.outSeq = seqs[0]!;
    this.outKind = kinds[0]!;
    this.outTarget = targets[0]!;
    this.outVal = vals[0];
    const n = --this.n;
    const lt = ts[n]!;
    const lseq = seqs[n]!;
    const lkind = kinds[n]!;
    const ltarget = targets[n]!;
    const lval = vals[n];
    targets[n] = null;
    vals[n] = undefined;
    if (n === 0) return true;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      let ct = ts[l]!;
      let cseq = seqs[l]!;
      if (r < n) {
        const rt = ts[r]!;
        if (rt < ct || (rt === ct && seqs[r]! < cseq)) {
          c = r;
          ct = rt;
          cseq = seqs[r]!;
        }
      }
      if (lt < ct || (lt === ct && lseq < cseq)) break;
      ts[i] = ct;
      seqs[i] = cseq;
      kinds[i] = kinds[c]!;
      targets[i] = targets[c]!;
      vals[i] = vals[c];
      i = c;
    }
    ts[i] = lt;
    seqs[i] = lseq;
    kinds[i] = lkind;
    targets[i] = ltarget;
    vals[i] = lval;
    return true;
  }

  private grow(): void {
    const size = this.ts.length * 2;
    const ts = new Float64Array(size);
    ts.set(this.ts);
    const seqs = new Float64Array(size);
    seqs.set(this.seqs);
    const kinds = new Uint8Array(size);
    kinds.set(this.kinds);
    this.ts = ts;
    this.seqs = seqs;
    this.kinds = kinds;
  }
}
