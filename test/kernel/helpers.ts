/**
 * Shared scaffolding for the kernel tests: a sim + kernel + minimal modprobe, and small
 * process helpers (a syscall in its own process, a test_kmod-like kthread).
 */
import { CpuPool, Sim, type Proc, type Process } from '../../src/sim/index.js';
import { createKernel, type Kernel, type KernelOptions, type KFile, type Task } from '../../src/kernel/index.js';
import { makeTask } from './testing/fixtures.js';
import { MinimalModprobe, type MinimalModprobeOptions } from './testing/minimal-modprobe.js';

export const US = 1_000;
export const MS = 1_000_000;
export const S = 1_000_000_000;

export interface World {
  sim: Sim;
  k: Kernel;
  mp: MinimalModprobe;
}

export function world(preset: string, files: KFile[], opts: KernelOptions & { cpus?: number; seed?: number; log?: boolean; modprobe?: MinimalModprobeOptions } = {}): World {
  const sim = new Sim({ seed: opts.seed ?? 1, log: opts.log ?? false });
  const { cpus, modprobe, ...kopts } = opts;
  const k = createKernel(sim, { preset, cpu: new CpuPool(sim, cpus ?? 8), ...kopts });
  const mp = new MinimalModprobe(sim, k, files, modprobe);
  k.setUsermodeHelper(mp);
  return { sim, k, mp };
}

/** run `body(task)` in a new process starting `atNs` from now; the process returns body's result */
export function proc<R>(w: World, name: string, atNs: number, body: (t: Task) => Proc<R>): Process<R> {
  return w.sim.spawn(name, (function* (): Proc<R> {
    if (atNs > 0) yield w.sim.delay(atNs);
    const t = makeTask(w.sim.current!, name);
    return yield* body(t);
  })());
}

export function finitAt(w: World, f: KFile, atNs = 0, name = 'insmod'): Process<number> {
  return proc(w, name, atNs, (t) => w.k.finit_module(t, f, '', 0));
}

export function requestAt(w: World, mod: string, atNs = 0, name = 'kthread', wait = true): Process<number> {
  return proc(w, name, atNs, (t) => w.k.request_module(t, mod, wait));
}

/** tally return values: { "0": 1, "-17": 3 } */
export function tally(xs: (number | undefined)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[String(x)] = (out[String(x)] ?? 0) + 1;
  return out;
}

/** number of module inits started for `name` (from the log) */
export function initCount(w: World, name: string): number {
  return w.sim.log.records.filter((r) => r.kind === 'init' && r.fields.module === name && r.fields.phase === 'start').length;
}
