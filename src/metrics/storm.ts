/**
 * DOC: the coldplug storm's figures, observed — everything in a StormRunRecord but its point.
 *
 * From the event stream of one boot (events.ts): load attempts and failures per module made by
 * udev workers, and the time they spent blocked in the kernel (loads.ts); peak vmalloc and
 * module-area use and the allocations that did not fit (memory.ts); the modules loaded at the
 * end (modules.ts); the coldplug's uevents and settle time; and the kernel's own MODULE_STATS
 * snapshot for the wasted bytes by category, the failed-load counts and the duplicate table;
 * what failing attempts really allocated and the loads in flight (attempts.ts).
 *
 * Only udev workers' loads count: that is the storm (modprobe run by request_module is not). A
 * simulated worker is the process `systemd-udevd-worker-N`; a real one has the comm
 * `(udev-worker)` on current systemd, `systemd-udevd` on older ones (the main process itself
 * loads nothing).
 */
import type { StormRunRecord } from '../results/record.js';
import { FailedAttempts } from './attempts.js';
import type { Coldplug, MetricEvent, ModuleStatsSnapshot } from './events.js';
import { LoadCounter } from './loads.js';
import { MemoryUse } from './memory.js';
import { ModuleStates } from './modules.js';

/** The record's figures: all of it but the run point (machine, cpus, kernel, seed). */
export type StormFigures = Omit<StormRunRecord, 'machine' | 'cpus' | 'kernel' | 'seed' | 'source' | 'target'>;

/** Is this caller a udev worker (simulated or real)? */
export function isUdevWorker(caller: string): boolean {
  return caller === '(udev-worker)' || caller.startsWith('systemd-udevd');
}

function sortedRecord<T>(r: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(r).sort()) out[k] = r[k]!;
  return out;
}

export class StormMetrics {
  readonly loads = new LoadCounter(isUdevWorker);
  readonly memory = new MemoryUse();
  readonly modules = new ModuleStates();
  readonly attempts = new FailedAttempts(isUdevWorker);
  private coldplug: Coldplug | null = null;
  private stats: ModuleStatsSnapshot | null = null;

  readonly observe = (e: MetricEvent): void => {
    switch (e.type) {
      case 'load':
        this.loads.observe(e);
        this.attempts.observe(e);
        return;
      case 'alloc':
        this.memory.observe(e);
        this.attempts.observe(e);
        return;
      case 'free':
        this.memory.observe(e);
        return;
      case 'state':
        this.modules.observe(e);
        return;
      case 'coldplug':
        this.coldplug = e;
        return;
      case 'module_stats':
        this.stats = e;
        return;
    }
  };

  /** The figures so far; needs the coldplug and the MODULE_STATS snapshot to have been seen. */
  figures(): StormFigures {
    const cp = this.coldplug;
    const st = this.stats;
    if (cp === null || st === null) throw new Error(`storm metrics: no ${cp === null ? 'coldplug' : 'module_stats'} event seen`);
    const c = st.counters;
    const live = this.modules.live();
    const failures = this.loads.failures;
    const sortedFailures: Record<string, Record<string, number>> = {};
    for (const [m, f] of Object.entries(failures)) sortedFailures[m] = sortedRecord(f);
    const vmalloc = this.memory.area('vmalloc');
    const module = this.memory.area('module');
    return {
      // the kernel's "Virtual mem wasted bytes": the sum of its four categories
      wastedBytes: c.invalid_kread_bytes + c.invalid_decompress_bytes + c.invalid_becoming_bytes + c.invalid_mod_bytes,
      wastedBytesByCategory: {
        kread: c.invalid_kread_bytes,
        decompress: c.invalid_decompress_bytes,
        becoming: c.invalid_becoming_bytes,
        load: c.invalid_mod_bytes,
      },
      failedBecoming: c.failed_becoming,
      failedLoad: c.failed_load_modules,
      modulesLoaded: live.size,
      loadAttempts: this.loads.total,
      loadAttemptsByModule: sortedRecord(this.loads.attempts),
      failuresByModule: sortedRecord(sortedFailures),
      peakVmallocBytes: vmalloc.peak,
      peakModuleAreaBytes: module.peak,
      allocFailures: vmalloc.failures + module.failures,
      // legitimate loads lost to exhaustion: never LIVE, and every failed attempt was -ENOMEM
      // (a module whose init fails anyway, e.g. -ENODEV, is not counted)
      modulesFailedByAllocation: [...this.memory.failedModules]
        .filter((m) => !live.has(m) && Object.keys(failures[m] ?? { ENOMEM: 1 }).every((e) => e === 'ENOMEM'))
        .sort(),
      settleNs: cp.end - cp.start,
      workerBlockedNs: this.loads.blockedNs,
      uevents: cp.uevents,
      duplicates: st.duplicates.map((d) => ({ module: d.module, count: d.count, reason: d.reason })),
      wastedBytesSource: 'module_stats',
      failedAttemptBytes: this.attempts.total,
      failedAttemptBytesByKind: this.attempts.byKind(),
      peakLoadsInFlight: this.attempts.peakInFlight(),
    };
  }
}
