/**
 * DOC: what failing load attempts really allocated, and how many loads were in flight at once.
 *
 * MODULE_STATS's wasted bytes are the kernel's estimate (spec §5.9: twice the file length for a
 * failed load, the file length for a failed "becoming" check). What a failing attempt actually
 * took is the sum of the allocations made on its behalf: the kernel's copy of the file (kread,
 * init_module_copy, decompress: `file`), the module's memory (core/init or the per-type
 * module_memory regions: `module`) and, when the kernel decompressed the file, the
 * decompressor's working memory for the decompression's duration (xz's dictionary, zlib's or
 * zstd's workspace — decompress_workspace: `workspace`), each page-rounded with its guard page
 * as vmallocinfo counts it. `vmap` is the part of `file` that is the decompressed image (its
 * pages alloc_page'd and vmap()ed, not vmalloc'ed: a trace sees it only through a vmap probe),
 * so the vmalloc'ed bytes are the total less `vmap`. An allocation belongs to the call of the same pid whose [start, end] holds it; allocations
 * arrive before their call's LoadCall (which is emitted at the return), so they wait per pid.
 *
 * Per-CPU allocations are left out: a real trace of the vmalloc/module allocators does not see
 * them, and they are small; comparing like with like matters more than the last few KiB.
 */
import type { Allocation, LoadCall, MetricEvent } from './events.js';

const FILE_KINDS = new Set(['kread', 'init_module_copy', 'decompress']);
/** the decompressed image's pages (vmap) */
const VMAP_KIND = 'decompress';
/** the decompressor's vmalloc'ed working memory */
const WORKSPACE_KIND = 'decompress_workspace';

export class FailedAttempts {
  /** bytes failing attempts allocated, by kind (`vmap` is part of `file`; see the DOC) */
  readonly bytes = { file: 0, module: 0, workspace: 0, vmap: 0 };
  /** allocations not yet matched with their call, by pid */
  private readonly pending = new Map<number, Allocation[]>();
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];

  constructor(private readonly callers: (caller: string) => boolean = () => true) {}

  readonly observe = (e: MetricEvent): void => {
    if (e.type === 'alloc') {
      if (!e.ok || e.pid === undefined || e.area === 'percpu') return;
      let list = this.pending.get(e.pid);
      if (list === undefined) this.pending.set(e.pid, (list = []));
      list.push(e);
    } else if (e.type === 'load') {
      this.call(e);
    }
  };

  private call(e: LoadCall): void {
    const allocs = this.pending.get(e.pid);
    this.pending.delete(e.pid);
    if (!this.callers(e.caller)) return;
    this.starts.push(e.start);
    this.ends.push(e.end);
    if (e.ret >= 0 || allocs === undefined) return;
    for (const a of allocs) {
      if (a.t < e.start || a.t > e.end) continue;
      const kind = a.kind ?? '';
      if (kind === WORKSPACE_KIND) this.bytes.workspace += a.bytes;
      else if (FILE_KINDS.has(kind)) {
        this.bytes.file += a.bytes;
        if (kind === VMAP_KIND) this.bytes.vmap += a.bytes;
      } else this.bytes.module += a.bytes;
    }
  }

  get total(): number {
    return this.bytes.file + this.bytes.module + this.bytes.workspace;
  }

  /** the record's split: file and module always, workspace and vmap where a failing attempt decompressed */
  byKind(): { file: number; module: number; workspace?: number; vmap?: number } {
    const { file, module, workspace, vmap } = this.bytes;
    return { file, module, ...(workspace > 0 ? { workspace } : {}), ...(vmap > 0 ? { vmap } : {}) };
  }

  /** the most calls in flight at one time (a call ending at t is out before one starting at t) */
  peakInFlight(): number {
    const s = Float64Array.from(this.starts).sort();
    const en = Float64Array.from(this.ends).sort();
    let i = 0;
    let j = 0;
    let now = 0;
    let peak = 0;
    while (i < s.length) {
      if (en[j]! <= s[i]! && j < en.length) {
        now--;
        j++;
      } else {
        now++;
        i++;
        if (now > peak) peak = now;
      }
    }
    return peak;
  }
}
