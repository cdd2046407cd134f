/**
 * DOC: the boot-time coldplug storm — one run point to one result record.
 *
 * A run boots one simulated machine (profile, CPU count, kernel preset, seed), lets udevd replay
 * the coldplug "add" uevents of every device the profile lists, and runs the simulation until the
 * last uevent has settled. The record's figures are observed, not read off the model: the run's
 * event log, udevd's coldplug and, at the end, the kernel's MODULE_STATS counters (the kernel's
 * own instrument, spec §5.9, accounted on every preset) go to the storm metrics
 * (src/metrics/storm.ts) — the same code a real guest's trace can be measured with.
 *
 * `runPoint` is the sweep's worker export (src/experiments/sweep.ts runs it in a thread pool).
 */
import { pathToFileURL } from 'node:url';
import { coldplugEvent, moduleStatsSnapshot, observeSimLog } from '../metrics/sim.js';
import { StormMetrics } from '../metrics/storm.js';
import { createSystem, type System } from '../system/index.js';
import { getPreset, type KernelPreset } from '../kernel/presets.js';
import { policyOfModule, type SameNamePolicy } from '../kernel/policy.js';
import { loadModuleSet } from '../userspace/depmod/index.js';
import type { ModuleSet } from '../userspace/moduleset.js';
import type { ColdplugStats } from '../userspace/udevd.js';
import type { StormRunRecord } from '../results/record.js';
import type { RunPoint } from '../results/store.js';

/** A sweep point plus the options every run of a sweep shares. */
export interface StormPoint extends RunPoint {
  /** a /lib/modules/<release> directory to read instead of the profile's snapshot */
  modulesDir?: string;
  /** a snapshot name (debian-6.1, debian-6.12) instead of the profile's */
  snapshot?: string;
  /** the userspace kmod version (default: the profile's) */
  kmodVersion?: number;
  /** module area size in bytes (default: the kernel's, 1008 MiB) */
  moduleAreaBytes?: number;
  /** the preset named by `kernel` when it comes from a JSON file (read by io/presets.ts) */
  preset?: KernelPreset;
  /** the ES module of a same-name policy plug-in (io/policy.ts; a .ts one compiled) replacing the preset's duplicate handling */
  policyFile?: string;
  /** the preset to run when `kernel` is a label such as "v6.4+fail-fast" */
  presetName?: string;
}

export interface StormRun {
  system: System;
  coldplug: ColdplugStats;
  preset: KernelPreset;
  /** what was observed of the run (the record's figures) */
  metrics: StormMetrics;
}

const moduleSets = new Map<string, ModuleSet>();

/** module sets are large and read-only: load each once per process (and thread) */
async function moduleSetFor(p: StormPoint): Promise<ModuleSet | string | undefined> {
  if (p.modulesDir === undefined) return p.snapshot;
  let set = moduleSets.get(p.modulesDir);
  if (set === undefined) {
    set = await loadModuleSet({ modulesDir: p.modulesDir });
    moduleSets.set(p.modulesDir, set);
  }
  return set;
}

export function presetOfPoint(p: StormPoint): KernelPreset {
  return p.preset ?? getPreset(p.presetName ?? p.kernel, '--kernel');
}

const policies = new Map<string, SameNamePolicy>();

async function policyFor(file: string): Promise<SameNamePolicy> {
  let pol = policies.get(file);
  if (pol === undefined) {
    // a policy (functions) cannot be posted to a worker thread: each imports the module itself
    pol = policyOfModule((await import(pathToFileURL(file).href)) as Record<string, unknown>, file);
    policies.set(file, pol);
  }
  return pol;
}

/** The machine of a run, assembled but not booted: every input of the point read and checked. */
async function assemble(p: StormPoint, opts: { log?: boolean } = {}): Promise<{ system: System; preset: KernelPreset }> {
  const preset = presetOfPoint(p);
  const modules = await moduleSetFor(p);
  const policy = p.policyFile !== undefined ? await policyFor(p.policyFile) : undefined;
  const system = createSystem({
    machine: p.machine,
    cpus: p.cpus,
    kernel: preset,
    seed: p.seed,
    log: opts.log ?? false,
    ...(modules !== undefined ? { modules } : {}),
    ...(p.kmodVersion !== undefined ? { kmodVersion: p.kmodVersion } : {}),
    kernelOptions: {
      ...(p.moduleAreaBytes !== undefined ? { memory: { moduleAreaBytes: p.moduleAreaBytes } } : {}),
      ...(policy !== undefined ? { policy } : {}),
    },
  });
  return { system, preset };
}

/**
 * Check what a sweep's runs share before any of them starts: the machine, each preset, the
 * module set (snapshot or tree), the kmod version, the policy. One machine per preset is
 * assembled (the smallest CPU count), not run; a bad input is its one InputError line here
 * instead of a failed run in a worker thread.
 */
export async function checkStormInputs(points: readonly StormPoint[]): Promise<void> {
  const first = new Map<string, StormPoint>();
  for (const p of points) {
    const q = first.get(p.kernel);
    if (q === undefined || p.cpus < q.cpus) first.set(p.kernel, p);
  }
  for (const p of first.values()) await assemble(p);
}

/** Boot the machine and run the coldplug storm to the end. `log` keeps the typed event log. */
export async function runStorm(p: StormPoint, opts: { log?: boolean } = {}): Promise<StormRun> {
  const { system, preset } = await assemble(p, opts);
  const metrics = new StormMetrics();
  observeSimLog(system.sim.log, metrics.observe);
  const coldplug = system.runColdplug();
  metrics.observe(coldplugEvent(coldplug));
  metrics.observe(moduleStatsSnapshot(system.kernel.stats, system.sim.now));
  return { system, coldplug, preset, metrics };
}

/** The result record of a finished storm. */
export function stormRecord(p: StormPoint, run: StormRun): StormRunRecord {
  return { machine: p.machine, cpus: p.cpus, kernel: p.kernel, seed: p.seed, ...run.metrics.figures(), source: 'simulated', target: 'sim' };
}

/** The sweep's worker export: one point → one record. */
export async function runPoint(p: StormPoint): Promise<StormRunRecord> {
  return stormRecord(p, await runStorm(p));
}
