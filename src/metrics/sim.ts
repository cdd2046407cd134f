/**
 * DOC: the simulator's side of the metrics — its event log, udevd's coldplug and the kernel's
 * MODULE_STATS, spoken in the vocabulary of events.ts.
 *
 * The simulated kernel logs each finit_module/init_module as an enter and an exit record of the
 * calling process (src/kernel/kernel.ts lists the kinds); paired per process they are one
 * LoadCall, as a syscall enter/exit pair of a real trace would be. 'alloc', 'free' and 'state'
 * map one to one. Every other kind is not part of the vocabulary and is skipped.
 *
 * `observeSimLog` subscribes an observer to a run's log as it happens. A log switched on only
 * for observers keeps no records (a storm on 448 CPUs makes hundreds of thousands); one already
 * on (kmodlab trace) keeps them as before.
 */
import type { ModuleStats } from '../kernel/stats.js';
import type { EventLog, LogListener, LogRecord } from '../sim/index.js';
import type { ColdplugStats } from '../userspace/udevd.js';
import type { Coldplug, EventSink, ModuleStatsSnapshot, StateChange } from './events.js';

/** a finit_module/init_module call seen entering (simEvents) */
interface OpenCall {
  open: boolean;
  syscall: 'finit_module' | 'init_module';
  module: string;
  start: number;
}

/** A log listener that turns the simulator's records into events for `sink`. */
export function simEvents(sink: EventSink): LogListener {
  /**
   * the syscall each process is inside, by pid: one entry per process, reused for its next call
   * (`open` false between calls), since a udev worker makes one call after another
   */
  const calls = new Map<number, OpenCall>();
  return (r: LogRecord) => {
    const f = r.fields;
    switch (r.kind) {
      case 'finit':
      case 'init_module': {
        if (f.phase === 'enter') {
          const syscall = r.kind === 'finit' ? 'finit_module' : 'init_module';
          const module = String(f.module ?? '');
          const call = calls.get(r.pid);
          if (call === undefined) calls.set(r.pid, { open: true, syscall, module, start: r.t });
          else {
            call.open = true;
            call.syscall = syscall;
            call.module = module;
            call.start = r.t;
          }
          return;
        }
        const call = calls.get(r.pid);
        if (call === undefined || !call.open) return; // an exit without its entry: the log was switched on mid-call
        call.open = false;
        sink({ type: 'load', syscall: call.syscall, module: call.module, start: call.start, pid: r.pid, caller: r.proc, ret: f.ret as number, end: r.t });
        return;
      }
      case 'alloc':
        sink({ type: 'alloc', t: r.t, area: f.area as string, bytes: f.size as number, module: f.module as string, ok: f.ok as boolean, pid: r.pid, kind: f.kind as string });
        return;
      case 'free':
        sink({ type: 'free', t: r.t, area: f.area as string, bytes: f.size as number, module: f.module as string });
        return;
      case 'state':
        sink({ type: 'state', t: r.t, module: f.module as string, state: f.to as StateChange['state'] });
        return;
    }
  };
}

/** Feed a simulated run's log to `sink` from now on (see the DOC above for what is kept). */
export function observeSimLog(log: EventLog, sink: EventSink): void {
  if (!log.enabled) log.store = false;
  log.on(simEvents(sink), SIM_EVENT_KINDS);
}

/** the log kinds simEvents turns into events (the others it skips) */
export const SIM_EVENT_KINDS: readonly string[] = ['finit', 'init_module', 'alloc', 'free', 'state'];

/** udevd's coldplug as the harness would time it: trigger start to the last event handled. */
export function coldplugEvent(st: ColdplugStats): Coldplug {
  return { type: 'coldplug', start: st.startNs, end: st.startNs + st.settleNs, uevents: st.uevents };
}

/** The simulated kernel's MODULE_STATS, read like its debugfs files at time `t`. */
export function moduleStatsSnapshot(stats: ModuleStats, t: number): ModuleStatsSnapshot {
  return {
    type: 'module_stats',
    t,
    counters: stats.counters() as ModuleStatsSnapshot['counters'],
    duplicates: stats.duplicates().map((d) => ({ module: d.name, count: d.count, reason: d.reason })),
  };
}
