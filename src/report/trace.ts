/**
 * DOC: one run's timeline as Chrome trace-event JSON (for Perfetto / chrome://tracing) and as an
 * SVG picture.
 *
 * The input is the typed event log of a simulated run (src/sim/log.ts records; the kernel's kinds
 * are listed at the top of src/kernel/kernel.ts). Every simulated process — udev worker, modprobe,
 * test_kmod thread, kernel work — becomes a track (a "thread" of one "process", the machine);
 * system calls, waits and module init become slices (complete events, so viewers that pair
 * begin/end events strictly — speedscope — have nothing to pair); module state changes,
 * duplicate detections and printk lines become instant events; vmalloc and module-area use
 * become counters. One event name per kind (`finit_module`, `wait`, `module state`), the values
 * (module, errno, what a wait was on) in args, so a viewer can group them; a record that changes
 * nothing (a state "change" to the same state) is left out. Times are virtual nanoseconds,
 * written as microseconds with three decimals so nothing is rounded away.
 */
import type { LogRecord } from '../sim/log.js';
import { specToSvg } from './svg.js';

/** One Chrome trace event (the subset of fields we write). */
export interface TraceEvent {
  name: string;
  ph: 'X' | 'i' | 'C' | 'M';
  ts: number;
  /** complete events: the duration (µs) */
  dur?: number;
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

/**
 * The slice a record begins or ends, or null. The name is the kind (the system call, the kernel
 * function, "wait"), never a value: what it loads, waits on or returns is in args, so a viewer
 * groups every finit_module together and shows the module on selection.
 */
function sliceOf(r: LogRecord): { name: string; begin: boolean; cat: string } | null {
  const f = r.fields;
  switch (r.kind) {
    case 'finit':
      return { name: 'finit_module', begin: f.phase === 'enter', cat: 'syscall' };
    case 'init_module':
      return { name: 'init_module', begin: f.phase === 'enter', cat: 'syscall' };
    case 'request_module':
      return { name: 'request_module', begin: f.phase === 'start', cat: 'kmod' };
    case 'init':
      return { name: 'do_init_module', begin: f.phase === 'start', cat: 'init' };
    case 'wait':
      return { name: 'wait', begin: f.phase === 'begin', cat: 'wait' };
    default:
      return null;
  }
}

/** instant-event name (one per kind), or null for a record that is none or changes nothing */
function instantOf(r: LogRecord): string | null {
  const f = r.fields;
  switch (r.kind) {
    case 'state':
      // a module record created in the state it already had is no transition
      return f.from === f.to ? null : 'module state';
    case 'same_name':
      return 'same-name check';
    case 'dup':
      return 'dups';
    case 'idempotent':
      return 'idempotent';
    case 'umh':
      return 'umh';
    case 'printk':
      return 'printk';
    case 'signal':
      return 'signal';
    case 'alloc':
      return f.ok === false ? 'alloc failed' : null;
    default:
      return null;
  }
}

/** a record's fields for args: the phase is the event type itself */
function argsOf(fields: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const { phase: _phase, ...rest } = fields;
  return rest;
}

interface OpenSlice {
  name: string;
  cat: string;
  /** virtual ns, whole */
  t: number;
  args: Record<string, unknown>;
  /** the slices it contained, closed */
  children: DoneSlice[];
}

interface DoneSlice {
  event: TraceEvent;
  startNs: number;
  endNs: number;
  children: DoneSlice[];
}

/**
 * A call and the call it made may return in the same virtual nanosecond (the model charges no
 * time to returning). Viewers that turn complete events back into begin/end pairs (speedscope)
 * then end the caller first, and the stack no longer nests; so a slice that ended when the one
 * around it did is written ending 1 ns (the file's resolution) inside it, and so on down.
 */
function endInside(d: DoneSlice, limitNs: number): void {
  if (d.endNs <= limitNs) return;
  d.endNs = Math.max(d.startNs, limitNs);
  for (const c of d.children) endInside(c, d.endNs - 1);
}

/**
 * Convert an event log into a Chrome trace. Slices are complete events (`ph: "X"` with `dur`),
 * whose args are the begin record's fields and then the end record's (the return value, the
 * wait's status): nothing for a strict viewer to pair or mismatch. Events are in time order
 * (an enclosing slice before the ones it contains). Deterministic for a deterministic log.
 */
export function toChromeTrace(records: readonly LogRecord[], meta: Record<string, string> = {}): ChromeTrace {
  const events: TraceEvent[] = [];
  const names = new Map<number, string>();
  /** open slices per track, to close what a run leaves open (a process blocked forever) */
  const open = new Map<number, OpenSlice[]>();
  const done: DoneSlice[] = [];
  let lastT = 0;
  const complete = (stack: OpenSlice[], i: number, tid: number, endT: number, endArgs: Record<string, unknown>): void => {
    const sl = stack[i]!;
    const event: TraceEvent = { name: sl.name, ph: 'X', ts: us(sl.t), dur: 0, pid: MACHINE_PID, tid, cat: sl.cat, args: { ...sl.args, ...endArgs } };
    events.push(event);
    const d: DoneSlice = { event, startNs: sl.t, endNs: Math.round(endT), children: sl.children };
    for (const c of d.children) endInside(c, d.endNs - 1);
    done.push(d);
    if (i > 0) stack[i - 1]!.children.push(d);
  };
  for (const r of records) {
    lastT = r.t;
    const tid = r.pid === 0 ? KERNEL_TID : r.pid;
    if (r.pid !== 0 && !names.has(r.pid)) names.set(r.pid, r.proc);
    const s = sliceOf(r);
    if (s !== null) {
      const stack = open.get(tid) ?? [];
      if (s.begin) {
        stack.push({ name: s.name, cat: s.cat, t: Math.round(r.t), args: argsOf(r.fields), children: [] });
        open.set(tid, stack);
      } else {
        // the innermost open slice of this kind
        let i = stack.length - 1;
        while (i >= 0 && stack[i]!.name !== s.name) i--;
        if (i < 0) continue; // an end without its begin (the log was switched on mid-call)
        // anything opened inside and not closed ends here (slices nest per track)
        for (let j = stack.length - 1; j > i; j--) complete(stack, j, tid, r.t, { unfinished: true });
        complete(stack, i, tid, r.t, argsOf(r.fields));
        stack.length = i;
      }
      continue;
    }
    const ts = us(r.t);
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
    for (let j = stack.length - 1; j >= 0; j--) complete(stack, j, tid, lastT, { unfinished: true });
  }
  for (const d of done) d.event.dur = us(d.endNs - d.startNs);
  // time order; at one time an enclosing slice (longer) first; else the order of the log
  const order = events.map((e, i) => ({ e, i }));
  order.sort((a, b) => a.e.ts - b.e.ts || (b.e.dur ?? -1) - (a.e.dur ?? -1) || a.i - b.i);
  const metaEvents: TraceEvent[] = [
    { name: 'process_name', ph: 'M', ts: 0, pid: MACHINE_PID, tid: KERNEL_TID, args: { name: meta.machine ?? 'simulated machine' } },
    { name: 'thread_name', ph: 'M', ts: 0, pid: MACHINE_PID, tid: KERNEL_TID, args: { name: 'kernel (counters, deferred work)' } },
  ];
  for (const [pid, name] of [...names.entries()].sort((a, b) => a[0] - b[0])) {
    metaEvents.push({ name: 'thread_name', ph: 'M', ts: 0, pid: MACHINE_PID, tid: pid, args: { name: `${name} [${pid}]` } });
  }
  return { traceEvents: [...metaEvents, ...order.map((o) => o.e)], displayTimeUnit: 'ns', otherData: meta };
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
