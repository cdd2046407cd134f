/**
 * DOC: the sweep runner — many independent runs, spread over the CPUs, safe to interrupt.
 *
 * A storm sweep is hundreds of independent, deterministic simulations (one per CPU count ×
 * preset × seed). This runs them over a worker-thread pool (piscina, one thread per available
 * CPU) or, for tests and small sweeps, in-process; it knows nothing about what a run does: the
 * caller names a worker module whose export turns one point into a StormRunRecord.
 *
 * Guarantees, because a sweep can take long and be stopped at any moment:
 * - every finished record is written to the store (src/results/store.ts, atomic) as soon as it arrives, and
 *   runs already in the store are skipped, so re-running the same command resumes;
 * - on SIGINT (or the caller's AbortSignal) nothing new is scheduled, runs still computing are
 *   abandoned, every record that did arrive is written completely, and the result says
 *   `interrupted` (the CLI exits 130); a second SIGINT exits at once, with write-file-atomic
 *   removing its temp files on the way out;
 * - the records come back in the order of the given points, whatever order they finished in;
 * - a progress bar is shown only on an interactive stderr outside CI, never in logs or pipes.
 *
 * The largest CPU counts are scheduled first (they take longest), so the pool does not end with
 * one long run on one thread while the others idle.
 */
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import cliProgress from 'cli-progress';
import { Piscina } from 'piscina';
import { EXIT_INTERRUPTED, InputError } from '../errors.js';
import { validateRecord, type StormParams, type StormRunRecord } from '../results/record.js';
import { errorOfTask, type SweepTask, type TaskResult } from './sweep-worker.js';
import { listDone, openStore, runKey, writeRecord, type RunPoint } from '../results/store.js';

/** The exit code of a sweep stopped by SIGINT (128 + 2, as shells report it). */
export const SIGINT_EXIT_CODE = EXIT_INTERRUPTED;

/** What a worker module exports (by default under the name `runPoint`). */
export type RunPointFn<P extends RunPoint = RunPoint> = (point: P) => StormRunRecord | Promise<StormRunRecord>;

export interface SweepOptions<P extends RunPoint> {
  /** the points to run, already sharded; their order is the order of the returned records */
  points: readonly P[];
  /** path or file URL of the (compiled, .js) worker module */
  worker: string | URL;
  /** the worker module's export to call (default `runPoint`) */
  exportName?: string;
  /** result store directory: write each record there, skip runs already there */
  outDir?: string;
  /** the sweep's parameters, for the store's manifest (required with outDir) */
  params?: StormParams;
  /** `pool` (worker threads, default) or `inline` (this thread, one run at a time) */
  mode?: 'pool' | 'inline';
  /** pool size (default: os.availableParallelism()) */
  threads?: number;
  /** progress bar: default only when stderr is a TTY and CI is not set */
  progress?: boolean;
  /** stop like SIGINT when aborted */
  signal?: AbortSignal;
  /** install a SIGINT handler for the sweep's duration (default true) */
  handleSigint?: boolean;
  /** called after each new record is stored */
  onRecord?: (record: StormRunRecord, stored: number, total: number) => void;
}

export interface SweepResult<P extends RunPoint> {
  /** every record available for the given points (resumed or new), in the points' order */
  records: StormRunRecord[];
  /** points that have no record (only when interrupted) */
  missing: P[];
  ran: number;
  skipped: number;
  total: number;
  interrupted: boolean;
}

/** Whether to draw a progress bar here: an interactive stderr, and not a CI log. */
export function progressWanted(env: NodeJS.ProcessEnv = process.env, stream: { isTTY?: boolean } = process.stderr): boolean {
  return Boolean(stream.isTTY) && !env.CI;
}

function workerUrl(worker: string | URL): string {
  if (worker instanceof URL) return worker.href;
  if (/^file:/.test(worker)) return worker;
  return pathToFileURL(path.resolve(worker)).href;
}

function sameRun(a: RunPoint, b: RunPoint): boolean {
  return a.machine === b.machine && a.cpus === b.cpus && a.kernel === b.kernel && a.seed === b.seed;
}

function isAbort(err: unknown): boolean {
  const e = err as { name?: string; code?: string } | null;
  return e?.name === 'AbortError' || e?.code === 'ABORT_ERR';
}

/**
 * A worker's error. Bad input stays the same InputError, word for word, whichever path ran it
 * (pool, inline, stats, trace); anything else is named after the run so it can be replayed.
 */
function runError(err: unknown, p: RunPoint): Error {
  if (err instanceof InputError) return err;
  const e = err as { message?: string } | null;
  const msg = `run ${runKey(p)} (machine ${p.machine}, cpus ${p.cpus}, kernel ${p.kernel}, seed ${p.seed}) failed: ${e?.message ?? String(err)}`;
  return new Error(msg, { cause: err });
}

class Stopped extends Error {
  override name = 'AbortError';
}

/** Run a sweep. Throws only for bad setup or a failed run (after storing what finished). */
export async function runSweep<P extends RunPoint>(opts: SweepOptions<P>): Promise<SweepResult<P>> {
  const { points, outDir } = opts;
  const exportName = opts.exportName ?? 'runPoint';
  if (outDir !== undefined) {
    if (!opts.params) throw new Error('runSweep: params are required with outDir');
    await openStore(outDir, opts.params);
  }
  const keys = points.map(runKey);
  if (new Set(keys).size !== keys.length) throw new Error('runSweep: the run list holds the same point twice');
  const stored = outDir !== undefined ? await listDone(outDir) : new Map<string, StormRunRecord>();
  const results = new Map<string, StormRunRecord>();
  for (const k of keys) {
    const r = stored.get(k);
    if (r) results.set(k, r);
  }
  const skipped = results.size;
  // Largest CPU counts first; stable otherwise.
  const todo = points
    .map((p, i) => ({ p, i }))
    .filter(({ p }) => !results.has(runKey(p)))
    .sort((a, b) => b.p.cpus - a.p.cpus || a.i - b.i)
    .map(({ p }) => p);

  const total = points.length;
  let ran = 0;
  let stopping = false;
  let interrupted = false;
  let failure: Error | undefined;
  const abort = new AbortController();
  const stop = () => {
    stopping = true;
    abort.abort();
  };
  const onSigint = () => {
    if (interrupted) process.exit(SIGINT_EXIT_CODE); // second Ctrl-C: leave now
    interrupted = true;
    stop();
  };
  const onAbort = () => {
    interrupted = true;
    stop();
  };
  if (opts.handleSigint !== false) process.on('SIGINT', onSigint);
  if (opts.signal) {
    if (opts.signal.aborted) onAbort();
    else opts.signal.addEventListener('abort', onAbort, { once: true });
  }

  const showBar = (opts.progress ?? progressWanted()) && todo.length > 0;
  const bar = showBar
    ? new cliProgress.SingleBar(
        {
          format: 'storm |{bar}| {value}/{total} runs | {percentage}% | {duration_formatted} elapsed, ETA {eta_formatted}',
          stream: process.stderr,
          hideCursor: true,
          etaBuffer: 20,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;

  const mode = opts.mode ?? 'pool';
  const url = workerUrl(opts.worker);
  let pool: Piscina | null = null;
  let runOne: (p: P) => Promise<StormRunRecord>;
  let concurrency: number;
  try {
    if (mode === 'pool') {
      concurrency = Math.max(1, Math.min(opts.threads ?? os.availableParallelism(), todo.length));
      // each thread runs sweep-worker.ts, which imports the worker module and never throws
      pool = new Piscina({ filename: new URL('./sweep-worker.js', import.meta.url).href, name: 'runTask', minThreads: 0, maxThreads: concurrency, idleTimeout: 1000 });
      const p0 = pool;
      runOne = async (p) => {
        const task: SweepTask = { url, exportName, point: p };
        const r = (await p0.run(task, { signal: abort.signal })) as TaskResult;
        if (!r.ok) throw errorOfTask(r.error);
        return r.record;
      };
    } else {
      concurrency = 1;
      const mod = (await import(url)) as Record<string, unknown>;
      const fn = mod[exportName];
      if (typeof fn !== 'function') throw new Error(`runSweep: ${opts.worker} has no function export "${exportName}"`);
      runOne = async (p) => {
        // Let a pending SIGINT be seen between runs: a run itself may never yield.
        await new Promise((resolve) => setImmediate(resolve));
        if (stopping) throw new Stopped('stopped');
        return (fn as RunPointFn<P>)(p);
      };
    }
  } catch (err) {
    if (opts.handleSigint !== false) process.off('SIGINT', onSigint);
    opts.signal?.removeEventListener('abort', onAbort);
    throw err;
  }

  bar?.start(total, skipped);
  const inflight = new Set<Promise<void>>();
  const launch = (p: P) => {
    const task: Promise<void> = runOne(p)
      .then(async (record) => {
        if (!record || typeof record !== 'object' || !sameRun(record, p)) {
          throw new Error(`the worker returned a record for another run (${record ? runKey(record) : String(record)})`);
        }
        // Check the contract before storing: a bad record would be re-run forever on resume.
        validateRecord(record, 'the worker returned an invalid record');
        // A finished record is kept even if a stop was asked meanwhile: that is the point.
        if (outDir !== undefined) await writeRecord(outDir, record);
        results.set(runKey(p), record);
        ran++;
        bar?.increment();
        opts.onRecord?.(record, results.size, total);
      })
      .catch((err: unknown) => {
        if (stopping && isAbort(err)) return;
        if (!failure) failure = runError(err, p);
        stop();
      })
      .finally(() => {
        inflight.delete(task);
      });
    inflight.add(task);
  };

  try {
    let next = 0;
    while (true) {
      while (!stopping && inflight.size < concurrency && next < todo.length) launch(todo[next++]!);
      if (inflight.size === 0) break;
      await Promise.race(inflight);
    }
  } finally {
    bar?.stop();
    if (opts.handleSigint !== false) process.off('SIGINT', onSigint);
    opts.signal?.removeEventListener('abort', onAbort);
    if (pool) await pool.destroy();
  }
  if (failure) throw failure;

  const records: StormRunRecord[] = [];
  const missing: P[] = [];
  points.forEach((p, i) => {
    const r = results.get(keys[i]!);
    if (r) records.push(r);
    else missing.push(p);
  });
  return { records, missing, ran, skipped, total, interrupted: interrupted && missing.length > 0 };
}
