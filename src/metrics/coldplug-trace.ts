/**
 * DOC: a real guest's coldplug trace as the metrics' event stream (events.ts), and the storm
 * figures the simulator's records carry, computed by the same observers (storm.ts).
 *
 * From the trace (ftrace.ts):
 *  - each finit_module/init_module enter/exit pair of one pid is a LoadCall; its module is the
 *    last .ko file that pid opened (kml/open), which is how kmod finds the file it passes;
 *  - a successful return makes the module LIVE, module_free makes it gone;
 *  - each vmalloc made by the pid while its call is open is an Allocation of that attempt: the
 *    first is the kernel's copy of the image (kernel_read_file for finit, the init_module copy);
 *    in a finit_module with MODULE_INIT_COMPRESSED_FILE the second is the decompressor's
 *    working memory (xz's dictionary: 1 MiB + guard with kbuild's modules); the later ones
 *    module memory (module_alloc of core and init, page-rounded with the guard page as
 *    vmallocinfo counts them); the vmap() of the decompressed image (kml/vmap, its page count)
 *    is the image's copy, pages that are not vmalloc'ed; these give failedAttemptBytes as really
 *    allocated (up to module_load: what a failing init allocates itself is not the loader's);
 *  - the VmallocUsed samples become allocations and releases of their differences, so the peak
 *    is the peak above the use at the first sample;
 *  - KML_TRIGGER/KML_SETTLED are the coldplug's start and end.
 *
 * MODULE_STATS: read from debugfs where the kernel has CONFIG_MODULE_STATS; elsewhere the same
 * estimate recomputed from the calls (wastedBytesSource 'estimate'), by spec §5.9's rules: a
 * duplicate (-EEXIST/-EBUSY) rejected at the early same-name check (K15 kernels) counts its file
 * length as "becoming", one rejected after allocation (older kernels) twice its length as "load";
 * an attempt that failed in its init (module_load was seen) is not counted; on idempotent kernels
 * (K20) a finit_module of a file already being loaded waits for the first and is not counted.
 */
import type { StormFigures } from './storm.js';
import { StormMetrics } from './storm.js';
import type { MetricEvent, ModuleStatsCounters } from './events.js';
import { moduleNameOfPath, type TraceEvent } from './ftrace.js';
import { errnoName } from '../kernel/errno.js';

const PAGE = 4096;
const MODULE_INIT_COMPRESSED_FILE = 4;

/** What the estimate needs to know of the kernel (its matching preset's flags). */
export interface TraceKernel {
  earlySameNameCheck: boolean;
  idempotentFinit: boolean;
}

/** A module file's size (F) and its image after decompression (D = F when uncompressed). */
export type FileSizes = (guestPath: string) => { file: number; image: number } | undefined;

export interface TraceInput {
  events: readonly TraceEvent[];
  kernel: TraceKernel;
  sizes: FileSizes;
  /** triggered uevents (udevadm trigger --verbose lines) */
  uevents: number;
  /** the text of /sys/kernel/debug/modules/stats, when the kernel has it */
  moduleStats?: string;
}

interface OpenCall {
  syscall: 'finit_module' | 'init_module';
  start: number;
  path: string | undefined;
  module: string;
  flags: number;
  len: number;
  allocs: number;
  sawLoad: boolean;
  /** the image was vmap()ed (in-kernel decompression done) */
  sawVmap?: boolean;
}

interface DoneCall extends OpenCall {
  pid: number;
  end: number;
  ret: number;
  comm: string;
}

const pageRound = (n: number): number => Math.ceil(n / PAGE) * PAGE;

/**
 * Is the call's next vmalloc the decompressor's? In a finit_module with
 * MODULE_INIT_COMPRESSED_FILE, module_decompress() makes exactly one vmalloc between the
 * kernel_read_file buffer (the call's first) and the vmap() of the image: xz's dictionary,
 * zlib's or zstd's workspace (src/kernel/decompress.ts). Later ones are module memory.
 */
function decompressing(c: OpenCall): boolean {
  return c.syscall === 'finit_module' && (c.flags & MODULE_INIT_COMPRESSED_FILE) !== 0 && c.allocs === 1 && !c.sawVmap;
}

/**
 * kml/vmap inside an open call: the decompressed image, `pages` alloc_page'd pages mapped as
 * one vmap area (with its guard page, as vmallocinfo counts it) — an Allocation of kind
 * 'decompress', the kernel's copy of the file as load_module sees it. Not a vmalloc, so the
 * valloc probe never sees it; null outside a call or after module_load (init's own vmaps).
 */
function vmapAllocation(c: OpenCall | undefined, e: Extract<TraceEvent, { kind: 'vmap' }>): MetricEvent | null {
  if (c === undefined || c.sawLoad) return null;
  c.sawVmap = true;
  return { type: 'alloc', t: e.t, area: 'traced', bytes: e.pages * PAGE + PAGE, module: c.module, ok: true, pid: e.pid, kind: 'decompress' };
}

/** The trace as metric events, in time order, plus the calls (for the MODULE_STATS estimate). */
export function traceEvents(events: readonly TraceEvent[], uevents: number): { metrics: MetricEvent[]; calls: DoneCall[] } {
  const metrics: MetricEvent[] = [];
  const lastOpen = new Map<number, string>();
  const open = new Map<number, OpenCall>();
  const calls: DoneCall[] = [];
  let trigger: number | undefined;
  let settled: number | undefined;
  let lastSample: number | undefined;
  for (const e of events) {
    switch (e.kind) {
      case 'open':
        lastOpen.set(e.pid, e.path);
        break;
      case 'enter': {
        const path = lastOpen.get(e.pid);
        open.set(e.pid, { syscall: e.syscall, start: e.t, path, module: path !== undefined ? moduleNameOfPath(path) : '?', flags: e.flags, len: e.len, allocs: 0, sawLoad: false });
        break;
      }
      case 'valloc': {
        const c = open.get(e.pid);
        // after module_load the module is COMING and its init runs: what init allocates is the
        // module's own business, not the loader's cost of the attempt
        if (c === undefined || c.sawLoad) break;
        const kind = c.allocs === 0 ? (c.syscall === 'finit_module' ? 'kread' : 'init_module_copy') : decompressing(c) ? 'decompress_workspace' : 'module';
        c.allocs++;
        metrics.push({ type: 'alloc', t: e.t, area: 'traced', bytes: pageRound(e.size) + PAGE, module: c.module, ok: true, pid: e.pid, kind });
        break;
      }
      case 'vmap': {
        const a = vmapAllocation(open.get(e.pid), e);
        if (a !== null) metrics.push(a);
        break;
      }
      case 'module_load': {
        const c = open.get(e.pid);
        if (c !== undefined) {
          c.sawLoad = true;
          if (c.module === '?') c.module = e.module;
        }
        metrics.push({ type: 'state', t: e.t, module: e.module, state: 'coming' });
        break;
      }
      case 'module_free':
        metrics.push({ type: 'state', t: e.t, module: e.module, state: 'gone' });
        break;
      case 'exit': {
        const c = open.get(e.pid);
        if (c === undefined) break; // the call began before the trace did
        open.delete(e.pid);
        calls.push({ ...c, pid: e.pid, end: e.t, ret: e.ret, comm: e.comm });
        metrics.push({ type: 'load', syscall: c.syscall, module: c.module, pid: e.pid, caller: e.comm, ret: e.ret, start: c.start, end: e.t });
        if (e.ret === 0) metrics.push({ type: 'state', t: e.t, module: c.module, state: 'live' });
        break;
      }
      case 'marker': {
        const [word, arg] = e.text.split(' ');
        if (word === 'KML_TRIGGER') trigger = e.t;
        else if (word === 'KML_SETTLED') settled = e.t;
        else if (word === 'KML_VMALLOC' && arg !== undefined) {
          const bytes = Number(arg) * 1024;
          if (lastSample !== undefined && bytes !== lastSample)
            metrics.push(bytes > lastSample
              ? { type: 'alloc', t: e.t, area: 'vmalloc', bytes: bytes - lastSample, module: '', ok: true }
              : { type: 'free', t: e.t, area: 'vmalloc', bytes: lastSample - bytes, module: '' });
          lastSample = bytes;
        }
        break;
      }
    }
  }
  if (trigger === undefined) throw new Error('coldplug trace: no KML_TRIGGER marker (the trace did not cover the trigger)');
  if (settled === undefined) throw new Error('coldplug trace: no KML_SETTLED marker (settle did not finish)');
  metrics.push({ type: 'coldplug', start: trigger, end: settled, uevents });
  return { metrics, calls };
}

/**
 * What each module's init returned where it failed: a call that saw its module_load (the module
 * reached COMING, so the error is init's own) and returned an error. Machine facts, not figures:
 * a captured profile carries them so the simulator's modules fail where the guest's did.
 */
export function initFailures(calls: readonly DoneCall[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of [...calls].sort((a, b) => a.start - b.start)) if (c.sawLoad && c.ret < 0) out[c.module] ??= c.ret;
  return out;
}

/** MODULE_STATS's counters and duplicate table, recomputed from the calls (see the DOC). */
export function estimateModuleStats(calls: readonly DoneCall[], kernel: TraceKernel, sizes: FileSizes): { counters: ModuleStatsCounters; duplicates: { module: string; count: number; reason: string }[] } {
  const counters: ModuleStatsCounters = { invalid_kread_bytes: 0, invalid_decompress_bytes: 0, invalid_becoming_bytes: 0, invalid_mod_bytes: 0, failed_becoming: 0, failed_load_modules: 0 };
  const dups = new Map<string, { count: number; becoming: boolean; load: boolean; last: number }>();
  const byStart = [...calls].sort((a, b) => a.start - b.start || a.pid - b.pid);
  for (const c of byStart) {
    if (c.ret >= 0 || c.sawLoad) continue; // success, or init failed (not counted)
    if (kernel.idempotentFinit && c.syscall === 'finit_module' && c.path !== undefined
      && byStart.some((o) => o !== c && o.path === c.path && o.syscall === 'finit_module' && o.start < c.start && o.end >= c.start)) continue;
    const sz = c.path !== undefined ? sizes(c.path) : undefined;
    const compressed = (c.flags & MODULE_INIT_COMPRESSED_FILE) !== 0;
    const len = c.syscall === 'init_module' ? c.len : sz === undefined ? 0 : compressed ? sz.image : sz.file;
    const extra = compressed && sz !== undefined ? sz.file : 0;
    const name = errnoName(-c.ret);
    const duplicate = name === 'EEXIST' || name === 'EBUSY';
    // rejected before module memory: the early check, or any failure with only the copy allocated
    const becoming = duplicate ? kernel.earlySameNameCheck : c.allocs <= 1;
    if (becoming) {
      counters.failed_becoming++;
      counters.invalid_becoming_bytes += len + extra;
    } else {
      counters.failed_load_modules++;
      counters.invalid_mod_bytes += 2 * len + extra;
    }
    if (duplicate) {
      const d = dups.get(c.module) ?? { count: 0, becoming: false, load: false, last: 0 };
      d.count++;
      if (becoming) d.becoming = true;
      else d.load = true;
      d.last = c.start;
      dups.set(c.module, d);
    }
  }
  // the kernel adds entries at the head: the module first seen as a duplicate last comes first
  const first = new Map<string, number>();
  for (const c of byStart) if (dups.has(c.module) && c.ret < 0 && !first.has(c.module)) first.set(c.module, c.start);
  const duplicates = [...dups.entries()]
    .sort((a, b) => (first.get(b[0]) ?? 0) - (first.get(a[0]) ?? 0) || (a[0] < b[0] ? -1 : 1))
    .map(([module, d]) => ({ module, count: d.count, reason: d.becoming && d.load ? 'Becoming & Load' : d.becoming ? 'Becoming' : 'Load' }));
  return { counters, duplicates };
}

const STATS_LABELS: Record<string, keyof ModuleStatsCounters> = {
  'Mods failed on becoming': 'failed_becoming',
  'Mods failed on load': 'failed_load_modules',
  'Failed kread bytes': 'invalid_kread_bytes',
  'Failed decompress bytes': 'invalid_decompress_bytes',
  'Failed becoming bytes': 'invalid_becoming_bytes',
  'Failed kmod bytes': 'invalid_mod_bytes',
};

/** The debugfs `stats` text (spec §5.9's format) as counters and the duplicate table. */
export function parseModuleStats(text: string): { counters: ModuleStatsCounters; duplicates: { module: string; count: number; reason: string }[] } {
  const counters: ModuleStatsCounters = { invalid_kread_bytes: 0, invalid_decompress_bytes: 0, invalid_becoming_bytes: 0, invalid_mod_bytes: 0, failed_becoming: 0, failed_load_modules: 0 };
  const duplicates: { module: string; count: number; reason: string }[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*([^\t]+?)\t(\d+)\s*$/.exec(line);
    if (m !== null && STATS_LABELS[m[1]!] !== undefined) counters[STATS_LABELS[m[1]!]!] = Number(m[2]);
    const d = /^\s*(\S+)\s+(\d+)\s+(Becoming & Load|Becoming|Load)\s*$/.exec(line);
    if (d !== null) duplicates.push({ module: d[1]!, count: Number(d[2]), reason: d[3]! });
  }
  return { counters, duplicates };
}

/**
 * The storm figures of one real coldplug, through the same observers as a simulated one, and the
 * init failures it showed (initFailures) — both from one pass over the trace.
 */
export function coldplugFigures(input: TraceInput): { figures: StormFigures; initFailures: Record<string, number> } {
  const { metrics, calls } = traceEvents(input.events, input.uevents);
  const end = metrics.reduce((t, e) => Math.max(t, 'end' in e ? e.end : 't' in e ? e.t : 0), 0);
  const stats = input.moduleStats !== undefined ? parseModuleStats(input.moduleStats) : estimateModuleStats(calls, input.kernel, input.sizes);
  const m = new StormMetrics();
  for (const e of metrics) m.observe(e);
  m.observe({ type: 'module_stats', t: end, counters: stats.counters, duplicates: stats.duplicates });
  return { figures: { ...m.figures(), wastedBytesSource: input.moduleStats !== undefined ? 'module_stats' : 'estimate' }, initFailures: initFailures(calls) };
}

/** A device added (kml/devadd) inside a module's load, and that module. */
export interface DeviceAddedByLoad {
  /** the device's name (dev->kobj.name: the last component of its devpath) */
  device: string;
  module: string;
  t: number;
}

/**
 * The devices a module's load created: device_add() called by a process whose finit_module or
 * init_module call is open and past its module_load (the module is COMING and its init runs, with
 * a driver's probes of already present hardware inside it). A device another process adds (a
 * kworker: serio probes asynchronously) is no load's here.
 */
export function devicesAddedByLoads(events: readonly TraceEvent[]): DeviceAddedByLoad[] {
  const initOf = new Map<number, string>();
  const inCall = new Set<number>();
  const out: DeviceAddedByLoad[] = [];
  for (const e of events) {
    if (e.kind === 'enter') inCall.add(e.pid);
    else if (e.kind === 'exit') {
      inCall.delete(e.pid);
      initOf.delete(e.pid);
    } else if (e.kind === 'module_load' && inCall.has(e.pid)) initOf.set(e.pid, e.module);
    else if (e.kind === 'devadd') {
      const module = initOf.get(e.pid);
      if (module !== undefined) out.push({ device: e.name, module, t: e.t });
    }
  }
  return out;
}

/** The trigger's own times (markers of scripts/coldplug/init), ns; undefined where a marker is absent. */
export interface TriggerTimes {
  /** `udevadm trigger --type=subsystems` starts */
  trigger: number | undefined;
  /** it returned and `--type=devices` starts */
  devices: number | undefined;
  /** the devices trigger returned: every trigger event is written */
  triggered: number | undefined;
  /** the first module file a worker opened */
  firstOpen: number | undefined;
}

export function triggerTimes(events: readonly TraceEvent[]): TriggerTimes {
  const t: TriggerTimes = { trigger: undefined, devices: undefined, triggered: undefined, firstOpen: undefined };
  for (const e of events) {
    if (e.kind === 'marker') {
      if (e.text === 'KML_TRIGGER') t.trigger ??= e.t;
      else if (e.text === 'KML_TRIGGER_DEVICES') t.devices ??= e.t;
      else if (e.text === 'KML_TRIGGERED') t.triggered ??= e.t;
    } else if (e.kind === 'open' && t.trigger !== undefined) t.firstOpen ??= e.t;
  }
  return t;
}
