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
 * A run must end. A boot that has not settled after an hour of virtual time (systemd-udevd gives
 * an event 180 s), or after its wall-clock budget (checked every few thousand events, so a
 * policy that spins the simulator without time passing is caught too), or that stops with
 * processes still waiting and nothing left to wake them (a policy that never lets a load
 * finish), is a RunHangError naming the run, its seed and the processes still waiting — never a
 * record of a boot that did not happen (0 loaded, 0 wasted). A policy that never returns to the
 * simulator at all is stopped by V8 a little after the budget (wall-clock.ts), on every path —
 * worker thread, `--inline`, `stats`, `trace` — with the same line naming the process it ran in.
 *
 * `runPoint` is the sweep's worker export (src/experiments/sweep.ts runs it in a thread pool).
 */
import { pathToFileURL } from 'node:url';
import { coldplugEvent, moduleStatsSnapshot, observeSimLog } from '../metrics/sim.js';
import { StormMetrics } from '../metrics/storm.js';
import type { System } from '../system/index.js';
import { getPreset, type KernelPreset } from '../kernel/presets.js';
import { policyOfModule, type SameNamePolicy } from '../kernel/policy.js';
import { loadModuleSet, loadSnapshot, shippedSnapshotHash } from '../userspace/depmod/snapshot.js';
import { forCpus, loadMachine } from '../userspace/machines/load.js';
import type { ModuleSet } from '../userspace/moduleset.js';
import type { ColdplugStats, Udevd } from '../userspace/udevd.js';
import type { StormRunRecord } from '../results/record.js';
import { runKey, type RunPoint } from '../results/run-key.js';
import { InputError, RunHangError } from '../errors.js';
import { ProcessError } from '../sim/index.js';
import { moduleSetHash, stormInputs } from './storm-identity.js';
import { redeliverSigint, runWithin } from './wall-clock.js';

/**
 * A storm run of this many CPUs or more is large. Alone in its sweep, a smaller one runs on the
 * main thread (sweep.ts oneRunInline): there a worker thread's start, second imports and JIT
 * warm-up cost more than its larger young generation saves. Whole-run instructions (valgrind,
 * node --single-threaded), main thread against a worker with STORM_YOUNG_GENERATION_MB: 255 CPUs
 * 5.0 G against 5.3 G, 1,024 CPUs 6.6 G against 7.1 G, 2,048 8.4 G against 8.8 G, but 4,096
 * 12.9 G against 12.2 G. A sweep holding a large run gives its worker threads that young generation.
 */
export const LARGE_STORM_CPUS = 3072;

/**
 * The young generation, MiB, of the worker threads of a sweep with a large run (V8's default:
 * 48). A large boot keeps thousands of loads waiting, each holding its generator chain and
 * state: with 48 MiB, 40–70 % of every scavenge survived, was copied twice and promoted, and the
 * old space filled with dead load state between mark-compacts (peak RSS 290–310 MiB at 8,192
 * CPUs). With twice the room most of it dies young: 8,192 CPUs in 223–244 MiB and ~15 % less
 * CPU; 4,096 CPUs −8 % instructions. Beyond ~100 the semi-spaces themselves add more RSS than
 * promotion saves (144: 288–295 MiB at 8,192), and for sweeps of small runs only the semi-spaces
 * are left: two threads' sweep of 64–512 CPUs took ~55 MiB more with it.
 */
export const STORM_YOUNG_GENERATION_MB = 96;

/** Virtual time a coldplug boot may take before it counts as hung: one hour (udevd's event timeout is 180 s). */
export const VIRTUAL_DEADLINE_NS = 3600e9;
/** Default wall-clock budget of one run: far above the largest sweep point's seconds. */
export const DEFAULT_RUN_TIMEOUT_MS = 600_000;

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
  /** the plug-in as the user named it (`--policy FILE`): what its messages say, whichever thread runs it (default policyFile) */
  policyShown?: string;
  /** the preset to run when `kernel` is a label such as "v6.4+fail-fast" */
  presetName?: string;
  /** virtual-time deadline of the boot, ns (default VIRTUAL_DEADLINE_NS) */
  deadlineNs?: number;
  /** wall-clock budget of the run, ms (default DEFAULT_RUN_TIMEOUT_MS) */
  runTimeoutMs?: number;
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

async function policyFor(file: string, shown: string): Promise<SameNamePolicy> {
  let pol = policies.get(file);
  if (pol === undefined) {
    // a policy (functions) cannot be posted to a worker thread: each imports the module itself
    pol = policyOfModule((await import(pathToFileURL(file).href)) as Record<string, unknown>, shown);
    policies.set(file, pol);
  }
  return pol;
}

/**
 * Whether a simulated process's exception was thrown by the plug-in's own code: the first frame
 * of its stack that is a file is the plug-in's module (a `throw` of the policy, or a built-in it
 * called, such as JSON.parse); a frame of kmodlab's first means kmodlab's code threw, under the
 * policy or not. Returns the plug-in's line when it is its source as written (a .js plug-in).
 */
function thrownByPolicy(err: unknown, module: string): { line: number | null } | null {
  const stack = (err as { stack?: unknown } | null)?.stack;
  if (typeof stack !== 'string') return null;
  const url = pathToFileURL(module).href;
  for (const frame of stack.split('\n').slice(1)) {
    const at = /\(?((?:file:\/\/|\/)[^():]+(?::[^():]+)*?):(\d+):\d+\)?\s*$/.exec(frame);
    if (at === null) continue; // <anonymous>, node:internal
    if (at[1] !== url && at[1] !== module) return null;
    return { line: Number(at[2]) };
  }
  return null;
}

/** A point's own inputs, read and checked in the order a run meets them: its preset, its module set, its policy. */
async function pointInputs(p: StormPoint): Promise<{ preset: KernelPreset; modules: ModuleSet | string | undefined; policy: SameNamePolicy | undefined }> {
  const preset = presetOfPoint(p);
  const modules = await moduleSetFor(p);
  const policy = p.policyFile !== undefined ? await policyFor(p.policyFile, p.policyShown ?? p.policyFile) : undefined;
  return { preset, modules, policy };
}

/** The machine of a run, assembled but not booted: every input of the point read and checked. */
async function assemble(p: StormPoint, opts: { log?: boolean } = {}): Promise<{ system: System; preset: KernelPreset }> {
  const { preset, modules, policy } = await pointInputs(p);
  // the simulator is loaded by the first run, not with this module: a sweep's main thread, which
  // only checks the inputs (checkStormInputs), never loads it (~90 ms of CPU)
  const { createSystem } = await import('../system/index.js');
  const system = createSystem({
    machine: p.machine,
    cpus: p.cpus,
    kernel: preset,
    seed: p.seed,
    log: opts.log ?? false,
    // a shipped snapshot is read only if the run looks up a name its slice does not answer
    moduleSlice: true,
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
 * What a sweep's main thread needs of a point's inputs, read and checked as assemble() reads
 * them — the preset, the module set (tree or snapshot), the policy, the machine profile at the
 * point's CPU count, the kmod version, in that order, so the first bad one is the same error —
 * without assembling a machine from them. A shipped snapshot with its recorded bytes is not even
 * read into a module set: its recorded hash is all the identity needs (snapshot.ts).
 */
async function readInputs(p: StormPoint): Promise<{ preset: KernelPreset; moduleSetHash: string; kmodVersion: number }> {
  const { preset, modules } = await pointInputs(p);
  // what createSystem reads before it builds anything (it throws nothing after these for a valid point)
  const machine = forCpus(loadMachine(p.machine), p.cpus);
  const kmodVersion = p.kmodVersion ?? machine.kmod.version;
  if (typeof modules === 'object') return { preset, moduleSetHash: moduleSetHash(modules), kmodVersion };
  const name = modules ?? machine.moduleSet;
  return { preset, moduleSetHash: shippedSnapshotHash(name) ?? moduleSetHash(loadSnapshot(name)), kmodVersion };
}

/**
 * Check what a sweep's runs share before any of them starts: the machine, each preset, the
 * module set (snapshot or tree), the kmod version, the policy — for each preset at the smallest
 * CPU count, read and checked as a run reads them (no machine is assembled: readInputs); a bad
 * input is its one InputError line here instead of a failed run in a worker thread. Returns each
 * kernel label's input hashes (what decides its results), from which the sweep's run identities
 * are made.
 */
export async function checkStormInputs(points: readonly StormPoint[]): Promise<Map<string, Record<string, string>>> {
  const first = new Map<string, StormPoint>();
  for (const p of points) {
    const q = first.get(p.kernel);
    if (q === undefined || p.cpus < q.cpus) first.set(p.kernel, p);
  }
  // what decides each label's results, for the store's run identities (storm-identity.ts)
  const inputs = new Map<string, Record<string, string>>();
  for (const [kernel, p] of first) {
    const { preset, moduleSetHash, kmodVersion } = await readInputs(p);
    inputs.set(kernel, stormInputs(p, { moduleSetHash, kmodVersion }, preset));
  }
  return inputs;
}

/** the processes a hung run left waiting, named with what they wait on: `modprobe xfs (module_wq)` */
function waitingProcesses(system: System, max = 6): string {
  // those waiting in the kernel first; udevd's own idle waits say least
  const udevIdle = (proc: { waiter: { source: unknown } | null }) => /^udevd\./.test(String((proc.waiter?.source as { name?: unknown } | undefined)?.name ?? ''));
  const live = system.sim.liveProcesses().sort((a, b) => Number(udevIdle(a)) - Number(udevIdle(b)));
  const named = live.slice(0, max).map((proc) => {
    const src = proc.waiter?.source as { name?: unknown } | undefined;
    return typeof src?.name === 'string' && src.name !== '' ? `${proc.name} (${src.name})` : proc.name;
  });
  const more = live.length > max ? `, +${live.length - max} more` : '';
  return live.length === 0 ? 'no process still waiting' : `${live.length} process${live.length === 1 ? '' : 'es'} still waiting: ${named.join(', ')}${more}`;
}

/** How long past its budget a run's code may go without returning before V8 stops it: the budget's own check (between events) comes first. */
export function hardLimitMs(budgetMs: number): number {
  return budgetMs + Math.max(1000, budgetMs / 20);
}

/** The run did not settle: say why, which run, its seed and who still waits. */
function hangError(p: StormPoint, system: System, coldplug: Pick<ColdplugStats, 'uevents' | 'finished'>, why: string): RunHangError {
  const open = coldplug.uevents - coldplug.finished;
  return new RunHangError(
    `run ${runKey(p)} (seed ${p.seed}) did not settle: ${why}; ${open} of ${coldplug.uevents} uevents unfinished at t=${system.sim.now}ns; ${waitingProcesses(system)}`,
  );
}

/** Boot the machine and run the coldplug storm to the end. `log` keeps the typed event log. */
export async function runStorm(p: StormPoint, opts: { log?: boolean } = {}): Promise<StormRun> {
  const { system, preset } = await assemble(p, opts);
  const metrics = new StormMetrics();
  observeSimLog(system.sim.log, metrics.observe);
  const deadlineNs = p.deadlineNs ?? VIRTUAL_DEADLINE_NS;
  const budgetMs = p.runTimeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
  const wallDeadline = Date.now() + budgetMs;
  let outOfTime = false;
  let coldplug: ColdplugStats;
  let udevd: Udevd | undefined;
  try {
    // the budget is checked between events; code that never returns to the simulator is stopped by V8
    const hardMs = hardLimitMs(budgetMs);
    const r = runWithin(hardMs, () =>
      system.runColdplug({
        untilNs: deadlineNs,
        keepGoing: () => !(outOfTime ||= Date.now() > wallDeadline),
        started: (u) => (udevd = u),
      }),
    );
    if (!r.done && r.why === 'interrupted') {
      redeliverSigint();
      throw Object.assign(new Error(`run ${runKey(p)}: interrupted`), { name: 'AbortError' });
    }
    if (!r.done) {
      const who = system.sim.current?.name;
      throw hangError(
        p,
        system,
        udevd?.stats() ?? { uevents: system.uevents().length, finished: 0 },
        `its wall-clock budget of ${Math.round(budgetMs / 1000)} s ran out while ${who ?? 'code outside any process'} had not returned to the simulator (stopped after ${Math.round(hardMs / 1000)} s: a policy that loops?)`,
      );
    }
    coldplug = r.value;
  } catch (err) {
    // bad input met inside a simulated process (a policy's answer): the same one line, with the run that met it
    if (err instanceof ProcessError && err.cause instanceof InputError) throw new InputError(`run ${runKey(p)} (seed ${p.seed}): ${err.cause.message}`, err.cause.exitCode);
    // the plug-in's code threw: a fault of the plug-in (an input), named like its bad answers are
    const thrown = err instanceof ProcessError && p.policyFile !== undefined ? thrownByPolicy(err.cause, p.policyFile) : null;
    if (thrown !== null) {
      const shown = p.policyShown ?? p.policyFile!;
      const where = thrown.line !== null && /\.m?js$/.test(shown) ? `${shown}:${thrown.line}` : shown;
      const e = (err as ProcessError).cause;
      const what = e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : String(e);
      throw new InputError(`run ${runKey(p)} (seed ${p.seed}): policy ${where}: threw ${what} (in process ${(err as ProcessError).procName})`);
    }
    throw err;
  }
  if (outOfTime) throw hangError(p, system, coldplug, `its wall-clock budget of ${Math.round(budgetMs / 1000)} s ran out`);
  if (!system.sim.idle()) throw hangError(p, system, coldplug, `still busy at its virtual-time deadline of ${deadlineNs / 1e9} s`);
  if (coldplug.finished < coldplug.uevents || system.sim.liveProcesses().length > 0) throw hangError(p, system, coldplug, 'nothing left to run');
  metrics.observe(coldplugEvent(coldplug));
  metrics.observe(moduleStatsSnapshot(system.kernel.stats, system.sim.now));
  return { system, coldplug, preset, metrics };
}

/** The result record of a finished storm. */
export function stormRecord(p: StormPoint, run: StormRun): StormRunRecord {
  return { machine: p.machine, cpus: p.cpus, kernel: p.kernel, seed: p.seed, ...run.metrics.figures(), source: 'simulated', target: 'sim', moduleSet: moduleSetLabel(p, run.system) };
}

/** what the record names as the run's module set: where it came from, its release and size */
export function moduleSetLabel(p: Pick<StormPoint, 'modulesDir' | 'snapshot'>, system: Pick<System, 'machine' | 'moduleSetSummary'>): string {
  const from = p.modulesDir !== undefined ? `tree ${p.modulesDir}` : `snapshot ${p.snapshot ?? system.machine.moduleSet}`;
  return `${from} (${system.moduleSetSummary.release}, ${system.moduleSetSummary.modules} modules)`;
}

/** The sweep's worker export: one point → one record. */
export async function runPoint(p: StormPoint): Promise<StormRunRecord> {
  return stormRecord(p, await runStorm(p));
}
