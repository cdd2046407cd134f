/**
 * DOC: the pool's side of a sweep — the module each worker thread runs.
 *
 * Errors do not cross a thread boundary whole: a structured clone keeps `message` and, for
 * Error's own kinds, `name`, but an InputError arrives as a plain Error without its exit code.
 * So a worker thread does not throw: `runTask` imports the sweep's worker module, runs one point
 * and returns the record, or the error's kind, message and exit code, which the sweep turns back
 * into the same error (src/experiments/sweep.ts). The same bad input then gives the same line
 * and exit code in the pool, with `--inline`, and in `stats` or `trace`.
 */
import { InputError } from '../errors.js';
import type { StormRunRecord } from '../results/record.js';

export interface SweepTask {
  /** file URL of the worker module */
  url: string;
  exportName: string;
  point: unknown;
}

/** an error as it can cross to the main thread */
export interface TaskError {
  kind: 'input' | 'error';
  name: string;
  message: string;
  exitCode?: number;
}

export type TaskResult = { ok: true; record: StormRunRecord } | { ok: false; error: TaskError };

/** what any thrown value is, as data */
export function taskError(err: unknown): TaskError {
  if (err instanceof InputError) return { kind: 'input', name: err.name, message: err.message, exitCode: err.exitCode };
  if (err instanceof Error) return { kind: 'error', name: err.name, message: err.message };
  return { kind: 'error', name: 'Error', message: String(err) };
}

/** the thrown value again, on the main thread */
export function errorOfTask(e: TaskError): Error {
  if (e.kind === 'input') return new InputError(e.message, e.exitCode);
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

const modules = new Map<string, Record<string, unknown>>();

/** piscina's entry: one point of a sweep, never a throw */
export async function runTask(task: SweepTask): Promise<TaskResult> {
  try {
    let mod = modules.get(task.url);
    if (mod === undefined) {
      mod = (await import(task.url)) as Record<string, unknown>;
      modules.set(task.url, mod);
    }
    const fn = mod[task.exportName];
    if (typeof fn !== 'function') throw new Error(`runSweep: ${task.url} has no function export "${task.exportName}"`);
    const record = (await (fn as (p: unknown) => StormRunRecord | Promise<StormRunRecord>)(task.point)) as StormRunRecord;
    return { ok: true, record };
  } catch (err) {
    return { ok: false, error: taskError(err) };
  }
}
