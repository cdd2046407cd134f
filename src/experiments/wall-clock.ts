/**
 * DOC: a wall-clock limit that V8 enforces, for synchronous code that may never return.
 *
 * A run checks its own budget between simulator events, but a plug-in's code that loops without
 * returning to the simulator (a policy whose check is `for (;;) {}`) is never between events, and
 * in the main thread (`storm --inline`, `stats`, `trace`) nothing else could stop it. node:vm's
 * `timeout` has V8 terminate whatever JavaScript runs on this thread when the time is up — the
 * plug-in's code too, whose try/catch cannot hold it — and it comes back here as "did not
 * return". It costs one watchdog thread per call (~0.2 ms), so it wraps a whole run, not each
 * policy call. Nothing else changes: the code runs in its own realm as before, the same steps in
 * the same order, so a run that ends in time is byte-for-byte the run without the limit.
 *
 * On the main thread Ctrl-C ends the code too (`breakOnSigint`), which is then "interrupted":
 * the caller hands the SIGINT on to its listeners (the sweep's stop), or to its default.
 *
 * What was running is abandoned mid-step: the caller may read its state to say what hung, never
 * go on with it.
 */
import vm from 'node:vm';
import { isMainThread } from 'node:worker_threads';

export type Within<T> = { done: true; value: T } | { done: false; why: 'timeout' | 'interrupted' };

// one realm holding one call: the script only calls the outer function, which runs as usual
const context = vm.createContext({ call: null as null | (() => unknown) });
const script = new vm.Script('call()', { filename: 'kmodlab-wall-clock' });

/** Run `fn` for at most `ms` of wall-clock time (and, on the main thread, until Ctrl-C). */
export function runWithin<T>(ms: number, fn: () => T): Within<T> {
  const outer = context.call;
  context.call = fn;
  try {
    return { done: true, value: script.runInContext(context, { timeout: Math.max(1, Math.ceil(ms)), breakOnSigint: isMainThread, displayErrors: false }) as T };
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return { done: false, why: 'timeout' };
    if (code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED') return { done: false, why: 'interrupted' };
    throw err;
  } finally {
    context.call = outer;
  }
}

/**
 * The Ctrl-C that interrupted a runWithin, delivered again now that JavaScript runs: to the
 * process's SIGINT listeners (a sweep stops as on any Ctrl-C), or, with none, by the signal's
 * default action (the process ends with 130 like any program stopped by Ctrl-C).
 */
export function redeliverSigint(): void {
  if (process.listenerCount('SIGINT') > 0) process.emit('SIGINT', 'SIGINT');
  else process.kill(process.pid, 'SIGINT');
}
