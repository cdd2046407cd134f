/**
 * DOC: one run's timeline as Chrome trace-event JSON (for Perfetto / chrome://tracing) and as an
 * SVG picture.
 *
 * The input is the typed event log of a simulated run (src/sim/log.ts records; the kernel's kinds
 * are listed at the top of src/kernel/kernel.ts). Every simulated process — udev worker, modprobe,
 * test_kmod thread, kernel work — becomes a track (a "thread" of one "process", the machine);
 * system calls, waits and module init become slices; module state changes, duplicate detections
 * and printk lines become instant events; vmalloc and module-area use become counters. Times are
 * virtual nanoseconds, written as microseconds with three decimals so nothing is rounded away.
 */
import type { LogRecord } from '../sim/log.js';
import { specToSvg } from './svg.js';

/** One Chrome trace event (the subset of fields we write). */
export interface TraceEvent {
  name: string;
  ph: 'B' | 'E' | 'i' | 'C' | 'M';
  ts: number;
  pid: number;
  tid: number;
  cat?: string;
  s?: 't' | 'p' | 'g';
  args?: Record<string, unknown>;
}

export interface ChromeTrace {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ns';
  otherData: Record<string, string>;
}

const MACHINE_PID = 1;
/** track for counters and events that belong to no process */
const KERNEL_TID = 0;

const us = (ns: number): number => Math.round(ns) / 1000;

/** slice name of a begin/end pair, or null if the record is not one */
function sliceOf(r: LogRecord): { name: string; begin: boolean; cat: string } | null {
  const f = r.fields;
  switch (r.kind) {
    case 'finit':
      return { name: `finit_module ${String(f.module)}`, begin: f.phase === 'enter', cat: 'syscall' };
    case 'init_module':
      return { name: `init_module ${String(f.module)}`, begin: f.phase === 'enter', cat: 'syscall' };
    case 'request_module':
      return { name: `request_module ${String(f.name)}`, begin: f.phase === 'start', cat: 'kmod' };
    case 'init':
      return { name: `init ${String(f.module)}`, begin: f.phase === 'start', cat: 'init' };
    case 'wait':
      return { name: `wait ${String(f.on)}`, begin: f.phase === 'begin', cat: 'wait' };
    default:
      return null;
  }
}

/** instant-event name, or null */
function instantOf(r: LogRecord): string | null {
  const f = r.fields;
  switch (r.kind) {
    case 'state':
      return `${String(f.module)}: ${String(f.from)} → ${String(f.to)}`;
    case 'same_name':
      return `same-name ${String(f.reason)} ${String(f.module)} → ${String(f.ret)}`;
    case 'dup':
      return `dups ${String(f.action)} ${String(f.name)}`;
    case 'idempotent':
      return `idempotent ${String(f.role)} ${String(f.module)}`;
    case 'umh':
      return `umh ${String(f.phase)} ${String(f.path)}`;
    case 'printk':
      return String(f.line);
    case 'signal':
      return `signal ${String(f.sig)}`;
    case 'alloc':
      return f.ok === false ? `alloc FAILED ${String(f.area)} ${String(f.size)} (${String(f.module)})` : null;
    default:
      return null;
  }
}

/** Convert an event log into a Chrome trace. Deterministic for a deterministic log. */
export function toChromeTrace(records: readonly LogRecord[], meta: Record<string, string> = {}): ChromeTrace {
  const events: TraceEvent[] = [];
  const names = new Map<number, string>();
  /** open slices per track, to close what a run leaves open (a process blocked forever) */
  const open = new Map<number, string[]>();
  let lastT = 0;
  for (const r of records) {
    lastT = r.t;
    const tid = r.pid === 0 ? KERNEL_TID : r.pid;
    if (r.pid !== 0 && !names.has(r.pid)) names.set(r.pid, r.proc);
    const ts = us(r.t);
    const s = sliceOf(r);
    if (s !== null) {
      const stack = open.get(tid) ?? [];
      if (s.begin) {
        stack.push(s.name);
        open.set(tid, stack);
        events.push({ name: s.name, ph: 'B', ts, pid: MACHINE_PID, tid, cat: s.cat, args: { ...r.fields } });
      } else {
        const i = stack.lastIndexOf(s.name);
        if (i < 0) continue; // an end without its begin (the log was switched on mid-call)
        // close anything opened inside and not closed (B/E must nest per track)
        for (let j = stack.length - 1; j > i; j--) events.push({ name: stack[j]!, ph: 'E', ts, pid: MACHINE_PID, tid });
        stack.length = i;
        events.push({ name: s.name, ph: 'E', ts, pid: MACHINE_PID, tid, args: { ...r.fields } });
      }
      continue;
    }
    if (r.kind === 'alloc' || r.kind === 'free') {
      const used = r.fields.used;
      if (typeof used === 'number') {
        const area = r.fields.area === 'module' ? 'module area used (bytes)' : r.fields.area === 'vmalloc' ? 'vmalloc used (bytes)' : 'percpu used (bytes)';
        events.push({ name: area, ph: 'C', ts, pid: MACHINE_PID, tid: KERNEL_TID, args: { bytes: used } });
      }
    }
    const inst = instantOf(r);
    if (inst !== null) events.push({ name: inst, ph: 'i', s: 't', ts, pid: MACHINE_PID, tid, cat: r.kind, args: { ...r.fields } });
  }
  // slices still open at the end (processes blocked forever) end where the run ended
  for (const [tid, stack] of [...open.entries()].sort((a, b) => a[0] - b[0])) {
    for (let j = stack.length - 1; j >= 0; j--) events.push({ name: stack[j]!, ph: 'E', ts: us(lastT), pid: MACHINE_PID, tid, args: { unfinished: true } });
  }
  const metaEvents: TraceEvent[] = [
    { name: 'process_name', ph: 'M', ts: 0, pid: MACHINE_PID, tid: KERNEL_TID, args: { name: meta.machine ?? 'simulated machine' } },
    { name: 'thread_name', ph: 'M', ts: 0, pid: MACHINE_PID, tid: KERNEL_TID, args: { name: 'kernel (counters, deferred work)' } },
  ];
  for (const [pid, name] of [...names.entries()].sort((a, b) => a[0] - b[0])) {
    metaEvents.push({ name: 'thread_name', ph: 'M', ts: 0, pid: MACHINE_PID, tid: pid, args: { name: `${name} [${pid}]` } });
  }
  return { traceEvents: [...metaEvents, ...events], displayTimeUnit: 'ns', otherData: meta };
}

/** A picture of the run: module-area and vmalloc use, and loads in flight, over virtual time. */
export async function renderTraceSvg(records: readonly LogRecord[], title: string): Promise<string> {
  const points: { ms: number; series: string; value: number }[] = [];
  let inFlight = 0;
  for (const r of records) {
    const ms = r.t / 1e6;
    if ((r.kind === 'alloc' || r.kind === 'free') && typeof r.fields.used === 'number' && (r.fields.area === 'module' || r.fields.area === 'vmalloc')) {
      points.push({ ms, series: r.fields.area === 'module' ? 'module area used (MiB)' : 'vmalloc used (MiB)', value: r.fields.used / 2 ** 20 });
    } else if (r.kind === 'finit' || r.kind === 'init_module') {
      inFlight += r.fields.phase === 'enter' ? 1 : -1;
      points.push({ ms, series: 'loads in flight', value: inFlight });
    }
  }
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 640,
    height: 160,
    data: { values: points },
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: { field: 'ms', type: 'quantitative', title: 'virtual time (ms)' },
      y: { field: 'value', type: 'quantitative', title: null },
      row: { field: 'series', type: 'nominal', title: null },
    },
    resolve: { scale: { y: 'independent' } },
  };
  return specToSvg(spec as Parameters<typeof specToSvg>[0], 'kt-');
}
