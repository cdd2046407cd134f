/**
 * DOC: the sweep runner — many independent runs, spread over the CPUs, safe to interrupt.
 *
 * A storm sweep is hundreds of independent, deterministic simulations (one per CPU count ×
 * preset × seed). This runs them over a worker-thread pool (piscina, one thread per available
 * CPU) or, for tests and small sweeps, in-process (and a sweep of one run the caller names:
 * oneRunInline); it knows nothing about what a run does: the caller names a worker module whose
 * export turns one point into a StormRunRecord.
 *
 * Guarantees, because a sweep can take long and be stopped at any moment:
 * - every finished record is written to the store (src/results/store.ts, atomic) as soon as it
 *   arrives, with the run's identity (what it was made from, given by the caller), and runs
 *   already in the store are skipped, so re-running the same command resumes; a stored record
 *   whose identity is not the one the run would have now (another module set, preset file,
 *   policy, model …), or whose checksum fails (edited by hand), is recomputed, and the caller is
 *   told how many and why before the first run starts;
 * - on SIGINT, SIGTERM or SIGHUP (or the caller's AbortSignal) nothing new is scheduled, runs
 *   still computing are abandoned, every record that did arrive is written completely, and the
 *   result says `interrupted` and by which signal (the CLI exits 128 + its number); a second
 *   signal exits at once, with write-file-atomic removing its temp files on the way out;
 * - every run in the pool has a wall-clock watchdog: a worker thread that does not answer in
 *   time (a policy looping without ever returning to the simulator) is stopped, and the sweep
 *   fails with an error naming the run and its seed (exit 124) instead of hanging;
 * - a failed run fails the sweep, and the failure reported is the first in the order the runs
 *   are started (the one `--inline` meets), whatever the threads' timing: the runs before it
 *   finish (and are stored), those after it are abandoned;
 * - the records come back in the order of the given points, whatever order they finished in;
 * - a progress bar is shown on an interactive stderr outside CI; elsewhere (logs, pipes) one
 *   progress line every 10 s of a long sweep. The ETA weighs each run by its CPU count (the
 *   largest go first and take longest), not by an average over the first, slowest runs.
 *
 * The largest CPU counts are scheduled first (they take longest), so the pool does not end with
 * one long run on one thread while the others idle; the pool starts the smallest run of each
 * kernel label before them, so that a fresh thread's JIT has seen every preset before it
 * optimises (startOrder).
 */
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Piscina } from 'piscina';
import { EXIT_INTERRUPTED, InputError, RunHangError, signalExitCode } from '../errors.js';
import { changedInputs, type RunIdentity } from '../results/identity.js';
import { validateRecord, type StormParams, type StormRunRecord } from '../results/record.js';
import { errorOfTask, type SweepTask, type TaskResult } from './sweep-worker.js';
import { listStored, openStore, runKey, writeRecord, type RunPoint } from '../results/store.js';

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
  /** install SIGINT, SIGTERM and SIGHUP handlers for the sweep's duration (default true) */
  handleSigint?: boolean;
  /** called after each new record is stored */
  onRecord?: (record: StormRunRecord, stored: number, total: number) => void;
  /** what each run is made from: stored with its record, and a stored record with another is recomputed */
  identity?: (point: P) => RunIdentity;
  /** before the first run: how many stored records are recomputed, and why (parts that changed, `edited`, …) */
  onStale?: (count: number, reasons: readonly string[]) => void;
  /** pool: wall-clock ms a run may take before its worker thread is stopped (default: none) */
  watchdogMs?: number;
  /**
   * pool: when only one run is left to compute and this says yes for it, compute it on this
   * thread as `inline` does. A thread's start, its own imports and its JIT's warm-up are paid
   * for nothing by a sweep of one small run (about a fifth of a 255-CPU storm). Only for a worker
   * whose runs bound their own wall-clock time (storm.ts: wall-clock.ts), since the watchdog can
   * stop only a thread.
   */
  oneRunInline?: (point: P) => boolean;
  /** pool: each worker thread's young generation in MiB (resourceLimits.maxYoungGenerationSizeMb; default V8's) */
  workerYoungGenerationMb?: number;
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
  /** the signal that stopped the sweep (absent when stopped through the AbortSignal, or not stopped) */
  signal?: NodeJS.Signals;
}

/** The signals that stop a sweep the way Ctrl-C does. */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** One progress line for a log (stderr not a terminal): `storm: 79/192 runs (41%), 1m20s elapsed, ETA 1m55s`. */
export function progressLine(done: number, total: number, elapsedMs: number, etaMs: number | null): string {
  const pct = total === 0 ? 100 : Math.floor((done / total) * 100);
  return `kmodlab: storm: ${done}/${total} runs (${pct}%), ${duration(elapsedMs)} elapsed, ETA ${etaMs === null ? '?' : duration(etaMs)}\n`;
}

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** how often a progress line is printed off a terminal: 10 s, or KMODLAB_PROGRESS_MS */
function progressIntervalMs(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.KMODLAB_PROGRESS_MS);
  return Number.isSafeInteger(n) && n > 0 ? n : 10_000;
}

/** what a run costs, roughly: the simulation's work grows with the CPUs (devices, workers, racers) */
function runWeight(p: RunPoint): number {
  return p.cpus + 8;
}

/**
 * The order the pool starts the runs of `todo` (largest CPU counts first) in, as places in it:
 * first the smallest run of each kernel label, then the rest in `todo`'s order. A fresh thread's
 * JIT optimises the model for the shapes its first runs show it; when those are one preset's at
 * 512 CPUs, each next preset and CPU count undoes some of it (a deoptimisation and another
 * compile of the large generator functions, in every thread). After a small run of every preset
 * first, the 102-run bench sweep met about half the deoptimisations and a quarter fewer
 * compilations, on 1 thread and on 2, and V8's compiler threads used ~40 % less CPU with 2
 * (`npm run bench -- storm`). The small runs cost little, and the largest still go first among
 * the others, so the threads end together.
 */
export function startOrder(todo: readonly RunPoint[]): number[] {
  const smallest = new Map<string, number>();
  todo.forEach((p, i) => {
    const j = smallest.get(p.kernel);
    if (j === undefined || p.cpus < todo[j]!.cpus) smallest.set(p.kernel, i);
  });
  const first = [...smallest.values()].sort((a, b) => a - b);
  const firstSet = new Set(first);
  return [...first, ...todo.map((_, i) => i).filter((i) => !firstSet.has(i))];
}

/** What the ETA is made from: the sweep's weights (runWeight) and the runs timed so far. */
export interface EtaState {
  elapsedMs: number;
  weightTotal: number;
  weightDone: number;
  /** runs that were not a thread's first: their weight and their own run time, summed */
  warmWeight: number;
  warmMs: number;
  /** threads, and runs not finished */
  threads: number;
  runsLeft: number;
}

/**
 * The time left. A thread's first run also pays for the thread's start (importing the model,
 * reading the module set: about a second, more than a whole run of a few hundred CPUs), so
 * elapsed time over work done — the first estimate, and the only one until a run that was not a
 * thread's first has finished — overestimates a wide sweep by several times at its start
 * (45 s left said after 6 s of a sweep that ended 8 s later), so it is given only after 30 s
 * (the ETA is `?` before). Once such runs are timed, the
 * weight they did per millisecond of their own, on as many threads as there are runs left,
 * gives the rest.
 */
export function etaMs(s: EtaState): number | null {
  if (s.weightDone === 0) return null;
  const left = Math.max(0, s.weightTotal - s.weightDone);
  // before that, elapsed time over work done only once the threads' start is a small part of it
  if (s.warmWeight === 0 || s.warmMs <= 0) return s.elapsedMs >= 30_000 ? (s.elapsedMs * left) / s.weightDone : null;
  return left / ((s.warmWeight / s.warmMs) * Math.max(1, Math.min(s.threads, s.runsLeft)));
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
  const identities = new Map<string, RunIdentity>();
  if (opts.identity) points.forEach((p, i) => identities.set(keys[i]!, opts.identity!(p)));
  const stored = outDir !== undefined ? await listStored(outDir) : new Map<string, never>();
  const results = new Map<string, StormRunRecord>();
  let stale = 0;
  const reasons = new Set<string>();
  for (const k of keys) {
    const s = stored.get(k);
    if (!s) continue;
    const want = identities.get(k);
    let why: string[] = [];
    if (s.checksum === 'bad') why = ['edited'];
    else if (want !== undefined && s.identity === undefined) why = ['no identity'];
    else if (want !== undefined && s.identity!.id !== want.id) why = changedInputs(s.identity!.inputs, want.inputs);
    if (why.length === 0 && want !== undefined && s.identity!.id !== want.id) why = ['run point'];
    if (why.length === 0) results.set(k, s.record);
    else {
      stale++;
      for (const w of why) reasons.add(w);
    }
  }
  if (stale > 0) opts.onStale?.(stale, [...reasons]);
  const skipped = results.size;
  // Largest CPU counts first; stable otherwise. A failure's rank is its place here (see launch).
  const todo = points
    .map((p, i) => ({ p, i }))
    .filter(({ p }) => !results.has(runKey(p)))
    .sort((a, b) => b.p.cpus - a.p.cpus || a.i - b.i)
    .map(({ p }) => p);

  const total = points.length;
  let ran = 0;
  let stopping = false;
  let interrupted = false;
  let stoppedBy: NodeJS.Signals | undefined;
  let failure: Error | undefined;
  const abort = new AbortController();
  const stop = () => {
    stopping = true;
    abort.abort();
  };
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) process.exit(signalExitCode(sig)); // a second signal: leave now
    interrupted = true;
    stoppedBy = sig;
    stop();
  };
  const onAbort = () => {
    interrupted = true;
    stop();
  };
  const listen = (on: boolean) => {
    if (opts.handleSigint === false) return;
    for (const sig of STOP_SIGNALS) {
      if (on) process.on(sig, onSignal);
      else process.off(sig, onSignal);
    }
  };
  listen(true);
  if (opts.signal) {
    if (opts.signal.aborted) onAbort();
    else opts.signal.addEventListener('abort', onAbort, { once: true });
  }

  const wantProgress = opts.progress ?? true;
  const showBar = wantProgress && (opts.progress === true || progressWanted()) && todo.length > 0;
  const showLines = wantProgress && !showBar && opts.progress === undefined && todo.length > 0;
  const started = Date.now();
  const weightTotal = todo.reduce((a, p) => a + runWeight(p), 0);
  let weightDone = 0;
  let warmWeight = 0;
  let warmMs = 0;
  let threads = 1;
  const eta = (): number | null =>
    etaMs({ elapsedMs: Date.now() - started, weightTotal, weightDone, warmWeight, warmMs, threads, runsLeft: total - skipped - ran });
  const lineTimer = showLines
    ? setInterval(() => process.stderr.write(progressLine(skipped + ran, total, Date.now() - started, eta())), progressIntervalMs()).unref()
    : null;
  // the bar's package only when a bar is drawn (a sweep in a pipe or a log has none)
  const cliProgress = showBar ? (await import('cli-progress')).default : null;
  const bar = cliProgress !== null
    ? new cliProgress.SingleBar(
        {
          format: 'storm |{bar}| {value}/{total} runs | {percentage}% | {duration_formatted} elapsed, ETA {weighted_eta}',
          stream: process.stderr,
          hideCursor: true,
          etaBuffer: 20,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;

  const mode = opts.mode === 'inline' || (todo.length === 1 && opts.oneRunInline?.(todo[0]!) === true) ? 'inline' : 'pool';
  const url = workerUrl(opts.worker);
  let pool: Piscina | null = null;
  let runOne: (p: P, signal: AbortSignal) => Promise<StormRunRecord>;
  let concurrency: number;
  try {
    if (mode === 'pool') {
      concurrency = Math.max(1, Math.min(opts.threads ?? os.availableParallelism(), todo.length));
      // each thread runs sweep-worker.ts, which imports the worker module and never throws
      const { Piscina } = await import('piscina'); // only when a pool is used
      pool = new Piscina({
        filename: new URL('./sweep-worker.js', import.meta.url).href,
        name: 'runTask',
        minThreads: 0,
        maxThreads: concurrency,
        idleTimeout: 1000,
        ...(opts.workerYoungGenerationMb !== undefined ? { resourceLimits: { maxYoungGenerationSizeMb: opts.workerYoungGenerationMb } } : {}),
      });
      const p0 = pool;
      const watchdogMs = opts.watchdogMs;
      runOne = async (p, signal) => {
        const task: SweepTask = { url, exportName, point: p };
        // each run's own controller: the sweep's stop (or a failure of an earlier run) aborts it through `signal`, the watchdog only this one
        const mine = new AbortController();
        const onStop = () => mine.abort();
        if (signal.aborted) mine.abort();
        signal.addEventListener('abort', onStop, { once: true });
        let fired = false;
        const timer =
          watchdogMs !== undefined
            ? setTimeout(() => {
                fired = true;
                mine.abort(); // piscina stops the thread the run is on
              }, watchdogMs)
            : null;
        try {
          const r = (await p0.run(task, { signal: mine.signal })) as TaskResult;
          if (!r.ok) throw errorOfTask(r.error);
          return r.record;
        } catch (err) {
          if (fired) {
            throw new RunHangError(
              `run ${runKey(p)} (machine ${p.machine}, cpus ${p.cpus}, kernel ${p.kernel}, seed ${p.seed}) did not finish within ${Math.round(watchdogMs! / 1000)} s of wall-clock time: its worker thread was stopped (a policy that never returns to the simulator?)`,
            );
          }
          throw err;
        } finally {
          if (timer !== null) clearTimeout(timer);
          signal.removeEventListener('abort', onStop);
        }
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
    listen(false);
    if (lineTimer !== null) clearInterval(lineTimer);
    opts.signal?.removeEventListener('abort', onAbort);
    throw err;
  }

  bar?.start(total, skipped, { weighted_eta: '?' });
  const inflight = new Set<Promise<void>>();
  // each running run's controller, by its place in `todo`
  const running = new Map<number, AbortController>();
  abort.signal.addEventListener('abort', () => {
    for (const c of running.values()) c.abort();
  });
  // The failure reported is the first in `todo` order, as --inline meets it, whatever order the
  // pool starts the runs in (startOrder): once a run fails, the runs after it in `todo` are
  // abandoned or never started, and those before it run to their end (those not started yet
  // still start) — one of them may fail first. Which failure a sweep reports then does not
  // depend on the timing of the threads, nor on the order they took the runs in.
  let failedAt: number | undefined;
  threads = concurrency;
  // `at`: the run's place in `todo`; `nth`: how many runs were started before it
  const launch = (p: P, at: number, nth: number) => {
    const launched = Date.now();
    const ctl = new AbortController();
    running.set(at, ctl);
    const task: Promise<void> = runOne(p, ctl.signal)
      .then(async (record) => {
        if (!record || typeof record !== 'object' || !sameRun(record, p)) {
          throw new Error(`the worker returned a record for another run (${record ? runKey(record) : String(record)})`);
        }
        // Check the contract before storing: a bad record would be re-run forever on resume.
        validateRecord(record, 'the worker returned an invalid record');
        // A finished record is kept even if a stop was asked meanwhile: that is the point.
        if (outDir !== undefined) await writeRecord(outDir, record, identities.get(runKey(p)));
        results.set(runKey(p), record);
        ran++;
        weightDone += runWeight(p);
        // a thread's first run also started the thread: only the later ones time a run
        if (nth >= concurrency) {
          warmWeight += runWeight(p);
          warmMs += Date.now() - launched;
        }
        const e = eta();
        bar?.increment(1, { weighted_eta: e === null ? '?' : duration(e) });
        opts.onRecord?.(record, results.size, total);
      })
      .catch((err: unknown) => {
        if ((stopping || (failedAt !== undefined && at > failedAt)) && isAbort(err)) return;
        if (failedAt === undefined || at < failedAt) {
          failedAt = at;
          failure = runError(err, p);
        }
        for (const [i, c] of running) if (i > failedAt) c.abort();
      })
      .finally(() => {
        running.delete(at);
        inflight.delete(task);
      });
    inflight.add(task);
  };

  const order = mode === 'pool' ? startOrder(todo) : todo.map((_, i) => i);
  try {
    let next = 0;
    let started = 0;
    while (true) {
      while (!stopping && inflight.size < concurrency && next < order.length) {
        const at = order[next++]!;
        if (failedAt !== undefined && at > failedAt) continue; // after the failure: never started
        launch(todo[at]!, at, started++);
      }
      if (inflight.size === 0) break;
      await Promise.race(inflight);
    }
  } finally {
    bar?.stop();
    if (lineTimer !== null) clearInterval(lineTimer);
    listen(false);
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
  const wasInterrupted = interrupted && missing.length > 0;
  return { records, missing, ran, skipped, total, interrupted: wasInterrupted, ...(wasInterrupted && stoppedBy !== undefined ? { signal: stoppedBy } : {}) };
}
