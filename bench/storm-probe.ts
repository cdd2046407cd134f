/**
 * DOC: the storm bench's sweep worker — storm.ts's `runPoint`, timed by the thread's own CPU.
 *
 * Wall time says little on a shared host, so the bench measures what each worker thread spends:
 * the kernel's per-thread run time (/proc/thread-self/schedstat: ns on a CPU, ns waiting for
 * one), read before and after every run and posted to the main thread on a BroadcastChannel
 * (the record itself is the storm's, unchanged). Linux only; elsewhere nothing is posted.
 */
import { readFileSync } from 'node:fs';
import { BroadcastChannel, threadId } from 'node:worker_threads';
import { runPoint as stormRunPoint, type StormPoint } from '../src/experiments/storm.js';
import type { StormRunRecord } from '../src/results/record.js';

/** the channel the bench listens on */
export const PROBE_CHANNEL = 'kmodlab-bench-storm-probe';

/** What one run cost its thread. */
export interface RunProbe {
  threadId: number;
  cpus: number;
  kernel: string;
  /** the thread's own CPU (ns, counted from the thread's creation) before and after the run */
  startNs: number;
  endNs: number;
  /** ns the thread waited for a CPU during the run (another thread or process had it) */
  waitNs: number;
}

/** this thread's [ns on a CPU, ns runnable but waiting], or null off Linux */
export function threadSchedNs(): [number, number] | null {
  try {
    const [run, wait] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ');
    return [Number(run), Number(wait)];
  } catch {
    return null;
  }
}

const channel = threadSchedNs() !== null ? new BroadcastChannel(PROBE_CHANNEL) : null;
channel?.unref();

export async function runPoint(p: StormPoint): Promise<StormRunRecord> {
  const a = threadSchedNs();
  const record = await stormRunPoint(p);
  const b = threadSchedNs();
  if (channel !== null && a !== null && b !== null) {
    const probe: RunProbe = { threadId, cpus: p.cpus, kernel: p.kernel, startNs: a[0], endNs: b[0], waitNs: b[1] - a[1] };
    channel.postMessage(probe);
  }
  return record;
}
