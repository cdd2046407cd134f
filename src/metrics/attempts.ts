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
import type { LoadCall, MetricEvent } from './events.js';

const FILE_KINDS = new Set(['kread', 'init_module_copy', 'decompress']);
/** the decompressed image's pages (vmap) */
const VMAP_KIND = 'decompress';
/** the decompressor's vmalloc'ed working memory */
const WORKSPACE_KIND = 'decompress_workspace';

/** what an allocation counts as (kept per pending allocation instead of the event) */
const AS_WORKSPACE = 0;
const AS_FILE = 1;
const AS_VMAP = 2;
const AS_MODULE = 3;

function countsAs(kind: string): number {
  if (kind === WORKSPACE_KIND) return AS_WORKSPACE;
  if (FILE_KINDS.has(kind)) return kind === VMAP_KIND ? AS_VMAP : AS_FILE;
  return AS_MODULE;
}

export class FailedAttempts {
  /** bytes failing attempts allocated, by kind (`vmap` is part of `file`; see the DOC) */
  readonly bytes = { file: 0, module: 0, workspace: 0, vmap: 0 };
  /**
   * allocations not yet matched with their call, by pid: (time, bytes, countsAs) triples in one
   * flat list per process, emptied (not dropped) at each call's end — the storm's allocations
   * wait there while their loads sleep, so they are kept as three numbers, not as events
   */
  private readonly pending = new Map<number, number[]>();
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];

  constructor(private readonly callers: (caller: string) => boolean = () => true) {}

  readonly observe = (e: MetricEvent): void => {
    if (e.type === 'alloc') {
      if (!e.ok || e.pid === undefined || e.area === 'percpu') return;
      let list = this.pending.get(e.pid);
      if (list === undefined) this.pending.set(e.pid, (list = []));
      list.push(e.t, e.bytes, countsAs(e.kind ?? ''));
    } else if (e.type === 'load') {
      this.call(e);
    }
  };

  private call(e: LoadCall): void {
    const allocs = this.pending.get(e.pid);
    if (this.callers(e.caller)) {
      this.starts.push(e.start);
      this.ends.push(e.end);
      if (e.ret < 0 && allocs !== undefined) this.add(allocs, e.start, e.end);
    }
    if (allocs !== undefined) allocs.length = 0;
  }

  /** a failing call's allocations: those made between its entry and its return */
  private add(allocs: readonly number[], start: number, end: number): void {
    for (let i = 0; i < allocs.length; i += 3) {
      const t = allocs[i]!;
      if (t < start || t > end) continue;
      const bytes = allocs[i + 1]!;
      switch (allocs[i + 2]) {
        case AS_WORKSPACE:
          this.bytes.workspace += bytes;
          break;
        case AS_FILE:
          this.bytes.file += bytes;
          break;
        case AS_VMAP:
          this.bytes.file += bytes;
          this.bytes.vmap += bytes;
          break;
        default:
          this.bytes.module += bytes;
      }
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
