/**
 * DOC: a sweep's CPU, thread by thread — what the storm bench reports beside the wall times.
 *
 * On a shared 2-core host a wall time (and a speed-up of wall times) mostly measures the others.
 * The CPU each thread used does not: runs the sweep with the probe worker (storm-probe.ts), which
 * posts each run's CPU on its thread, and adds the main thread's CPU and the whole process's
 * (all threads: the pool's, the main thread's, V8's and libuv's helpers). From them:
 * - the critical path: the most CPU any one worker thread used (its start included). The pool
 *   hands a thread its next run when it is free by the wall clock, so on a loaded host a thread
 *   the others slowed down takes fewer runs and this is uneven; on a quiet one the threads share
 *   the runs evenly (largest first);
 * - the wall a quiet host with `cores` cores would give: the worker threads' CPU shared evenly
 *   over the threads, or all the process's CPU (V8's helpers included) spread over the cores,
 *   whichever is more.
 */
import { fileURLToPath } from 'node:url';
import { BroadcastChannel } from 'node:worker_threads';
import type { RunPoint } from '../src/results/store.js';
import { runSweep } from '../src/experiments/sweep.js';
import { PROBE_CHANNEL, threadSchedNs, type RunProbe } from './storm-probe.js';

export interface ThreadCpu {
  threadId: number;
  /** CPU before its first run: thread start, imports */
  startMs: number;
  /** CPU of its runs */
  runsMs: number;
  /** CPU between its runs (taking a task, answering) */
  betweenMs: number;
  /** all of it, to its last run's end */
  totalMs: number;
  /** ms it waited for a CPU during its runs */
  waitMs: number;
  runs: number;
}

export interface SweepCpu {
  /** whether the threads' CPU was measured (Linux); if not, only the wall and records are */
  probed: boolean;
  wallMs: number;
  /** user + system of the whole process during the sweep */
  totalMs: number;
  mainMs: number;
  /** the process's CPU in neither the main thread nor a worker's start or runs: V8's compiler and GC helpers, libuv, a thread's end */
  otherMs: number;
  threads: ThreadCpu[];
  /** every run, in the order they finished */
  runs: RunProbe[];
  criticalPathMs: number;
  /** max(worker threads' CPU / threads, total / cores) */
  quietWallMs: number;
  records: number;
}

const ms = (ns: number) => ns / 1e6;

/** Run the sweep of `points` on `threads` worker threads with the probe (off Linux, no schedstat: the wall only). */
export async function sweepCpu(points: readonly RunPoint[], threads: number, cores: number): Promise<SweepCpu> {
  const probed = threadSchedNs() !== null;
  const runs: RunProbe[] = [];
  const channel = new BroadcastChannel(PROBE_CHANNEL);
  let arrived: () => void = () => {};
  channel.onmessage = (e) => {
    runs.push((e as { data: RunProbe }).data);
    if (runs.length === points.length) arrived();
  };
  const worker = fileURLToPath(new URL('./storm-probe.js', import.meta.url));
  const main0 = threadSchedNs() ?? [0, 0];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const res = await runSweep({ points, worker, progress: false, handleSigint: false, threads });
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const main1 = threadSchedNs() ?? [0, 0];
  // the probes' messages may trail the records: wait for them (a little)
  if (probed && runs.length < points.length) await new Promise<void>((resolve) => ((arrived = resolve), setTimeout(resolve, 2000).unref()));
  channel.close();
  const byThread = new Map<number, ThreadCpu>();
  for (const r of runs) {
    // schedstat counts from the thread's creation: the first run's start is what the thread cost before it
    const t = byThread.get(r.threadId) ?? { threadId: r.threadId, startMs: ms(r.startNs), runsMs: 0, betweenMs: 0, totalMs: 0, waitMs: 0, runs: 0 };
    t.startMs = Math.min(t.startMs, ms(r.startNs));
    t.runsMs += ms(r.endNs - r.startNs);
    t.totalMs = Math.max(t.totalMs, ms(r.endNs));
    t.waitMs += ms(r.waitNs);
    t.runs++;
    byThread.set(r.threadId, t);
  }
  const list = [...byThread.values()].map((t) => ({ ...t, betweenMs: t.totalMs - t.startMs - t.runsMs }));
  const totalMs = (cpu.user + cpu.system) / 1000;
  const mainMs = ms(main1[0] - main0[0]);
  const threadsMs = list.reduce((a, t) => a + t.totalMs, 0);
  const criticalPathMs = Math.max(0, ...list.map((t) => t.totalMs));
  return {
    probed,
    wallMs,
    totalMs,
    mainMs,
    otherMs: totalMs - mainMs - threadsMs,
    threads: list,
    runs,
    criticalPathMs,
    quietWallMs: Math.max(threadsMs / Math.max(1, list.length), totalMs / cores),
    records: res.records.length,
  };
}
