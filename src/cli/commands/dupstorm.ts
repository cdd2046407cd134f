/**
 * DOC: `kmodlab storm --parallel LIST [--target qemu:NAME|sim] [--module M] [--path P] [--compare]`
 * [--state cold,live] — duplicate-load storms: N concurrent loads of one module released at the
 * same moment, on a module not loaded (cold) or already LIVE.
 *
 * Wiring only: one plan (src/experiments/dupstorm/plan.ts) run by runDupStorm on one target,
 *   --target qemu:NAME   in a real guest (guestDupStormTarget, src/targets/qemu/storm.ts)
 *   --target sim (default), or sim:PRESET
 *                        on the simulator (src/experiments/dupstorm/sim.ts), once per --kernel preset
 *   --compare            (qemu only) the same plan on the sim model of that kernel (its KernelSpec's
 *                        sim in src/targets/qemu/kernels.ts: v6.1-stable for debian-6.1, v6.11 for
 *                        debian-6.12, machine profile qemu-tcg, the guest's vCPU count), side by side
 *
 * Reported per module, load path and N: the outcome counts (0, EEXIST, EBUSY, the init's error;
 * for modprobe its exit code and the errno in its message) and the peak VmallocUsed. Exit codes
 * as `kmodlab kernel storm`: 0 ran, 3 boot failure, 5 kernel panic, 124 timeout; with --compare,
 * 1 when the two sides disagree in a way nothing explains (a finding, printed with ≠).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { stdout } from '../stdio.js';
import { InputError } from '../../errors.js';
import type { Comparison } from '../../experiments/compare.js';
import { compareStorms } from '../../experiments/dupstorm/compare.js';
import { stormProgressLine, stormTable } from '../../experiments/dupstorm/format.js';
import { parsePlan } from '../../experiments/dupstorm/plan.js';
import { runDupStorm } from '../../experiments/dupstorm/run.js';
import { simDupStormTarget, simMachineOf, type SimDupStormResult, type SimStormMachine } from '../../experiments/dupstorm/sim.js';
import { loadModuleSet, loadSnapshot } from '../../userspace/depmod/snapshot.js';
import { presetNames } from '../../kernel/presets.js';
import type { DupStormRow } from '../../results/dupstorm.js';
import type { GuestStormResult } from '../../targets/qemu/storm.js';
import type { QemuTarget } from '../../targets/qemu/target.js';
import { intOption, secondsOption } from '../options.js';
import { checkOutputDir } from '../../io/output.js';
import { runCommand } from '../results-option.js';
import { PendingRun, simRelease } from '../../results/results-dir.js';

/** the options the parallel storm reads (the storm command's, plus its own) */
export interface ParallelStormOpts {
  target?: string;
  parallel?: string;
  module?: string;
  path?: string;
  state?: string;
  compare?: boolean;
  kernel?: string;
  cpus?: string;
  seed?: string;
  machine?: string;
  mem?: string;
  timeout?: string;
  accel?: string;
  logDir?: string;
  format?: string;
  cache?: string;
  results?: string;
  snapshot?: string;
  modules?: string;
  kmodVersion?: string;
}

/**
 * --snapshot, --modules and --kmod-version: the simulated side's module set and kmod (the sim
 * target's machine, or with --compare the sim model of the real kernel). Each is read and checked
 * here, before any machine boots.
 */
async function simOverrides(o: ParallelStormOpts): Promise<Pick<SimStormMachine, 'snapshot' | 'moduleSet' | 'kmodVersion'>> {
  const out: Pick<SimStormMachine, 'snapshot' | 'moduleSet' | 'kmodVersion'> = {};
  if (o.modules !== undefined && o.snapshot !== undefined) throw new InputError('--modules: not with --snapshot (one module set)');
  if (o.snapshot !== undefined) {
    loadSnapshot(o.snapshot);
    out.snapshot = o.snapshot;
  }
  if (o.modules !== undefined) out.moduleSet = await loadModuleSet({ modulesDir: o.modules });
  if (o.kmodVersion !== undefined) out.kmodVersion = intOption('--kmod-version', o.kmodVersion, 1);
  return out;
}

/** the guest's progress: one stderr line per storm done */
export const logRow = (r: DupStormRow): void => void process.stderr.write(`kmodlab: ${stormProgressLine(r)}\n`);

function writeJson(file: string, v: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(v, null, 2) + '\n');
}

/** Entry point from `kmodlab storm` when --parallel or --target qemu:NAME is given. */
export async function runParallelStorm(o: ParallelStormOpts, cmd?: Command): Promise<number> {
  const given = (k: string) => cmd === undefined || cmd.getOptionValueSource(k) !== 'default';
  if (o.parallel === undefined) throw new InputError('--target qemu:NAME: needs --parallel LIST');
  const plan = parsePlan({ parallel: o.parallel, modules: o.module, modes: o.path, ...(o.state !== undefined ? { states: o.state } : {}) });
  const cpus = o.cpus !== undefined && given('cpus') ? intOption('--cpus', o.cpus, 1) : 2;
  const format = o.format !== undefined && given('format') ? o.format : 'text';
  if (format !== 'text' && format !== 'json') throw new InputError(`--format ${format}: --parallel storms print text or json`);
  const out = (s: string) => stdout(s);
  const target = o.target ?? 'sim';

  if (!target.startsWith('qemu:')) {
    // the simulator: one table per kernel preset
    let kernels: string[];
    if (target.startsWith('sim:')) kernels = [target.slice(4)];
    else if (target === 'sim') kernels = (o.kernel ?? 'newest').split(',');
    else throw new InputError(`--target ${target}: want sim, sim:PRESET or qemu:NAME`);
    for (const k of kernels) if (!presetNames().includes(k)) throw new InputError(`kernel ${k}: unknown preset`);
    const seed = o.seed !== undefined ? intOption('--seed', o.seed, 0) : undefined;
    const overrides = await simOverrides(o);
    const pending = new Map(o.results !== undefined ? kernels.map((k) => [k, PendingRun.open(o.results!)] as const) : []);
    const results: SimDupStormResult[] = [];
    try {
      for (const k of kernels)
        results.push(
          await runDupStorm(
            plan,
            simDupStormTarget({ kernel: k, cpus, ...overrides, ...(o.machine !== undefined && given('machine') ? { machine: o.machine } : {}), ...(seed !== undefined ? { seed } : {}) }),
          ),
        );
    } finally {
      if (results.length < kernels.length) for (const p of pending.values()) p.discard();
    }
    // the sim storm is deterministic: its run id is too (seed 1 when none is given)
    for (const [i, k] of kernels.entries())
      if (pending.has(k)) process.stderr.write(`kmodlab: results in ${pending.get(k)!.commit(runCommand('dupstorm', simRelease(k), 'sim'), results[i], seed ?? 1)}\n`);
    if (format === 'json') out(JSON.stringify(results, null, 2) + '\n');
    else for (const r of results) out(`# sim ${r.kernel} on ${r.machine}, ${r.cpus} CPUs, kmod ${r.kmodVersion}\n\n${stormTable(r.rows)}\n`);
    return 0;
  }

  // a real guest
  const q = await import('../../targets/qemu/index.js');
  const name = q.parseQemuTargetName(target, o.cache);
  if (o.accel !== undefined && !['tcg', 'kvm', 'auto'].includes(o.accel)) throw new InputError(`--accel ${o.accel}: want tcg, kvm or auto`);
  const model = o.compare ? q.resolveKernelSpec(name, o.cache).sim : null;
  // the module set and kmod are the sim model's: without --compare nothing is simulated
  if (!o.compare)
    for (const [flag, v] of [['--snapshot', o.snapshot], ['--modules', o.modules], ['--kmod-version', o.kmodVersion]] as const)
      if (v !== undefined) throw new InputError(`${flag}: with --target qemu:NAME only for the --compare side (the real guest has its own modules and kmod)`);
  const overrides = await simOverrides(o);
  if (o.results !== undefined && o.logDir !== undefined) throw new InputError('--log-dir: not with --results (the run directory keeps the guest logs)');
  // before the boot: a directory that cannot be made fails now (Node's recursive mkdir spins forever under /proc)
  if (o.logDir !== undefined) checkOutputDir('--log-dir', o.logDir);
  const pending = o.results !== undefined ? PendingRun.open(o.results) : null;
  const logDir = pending ? pending.tmp : o.logDir;
  let t: QemuTarget;
  try {
    t = await q.createQemuTarget(name, {
      cpus,
      ...(o.mem !== undefined ? { memMiB: intOption('--mem', o.mem, 256) } : {}),
      ...(o.timeout !== undefined ? { timeoutS: secondsOption('--timeout', o.timeout, 0) } : {}),
      ...(o.accel !== undefined ? { accel: o.accel as 'tcg' | 'kvm' | 'auto' } : {}),
      ...(logDir !== undefined ? { logDir } : {}),
      ...(o.cache !== undefined ? { cache: o.cache } : {}),
    });
  } catch (e) {
    pending?.discard();
    if (!(e instanceof q.GuestSessionError)) throw e;
    process.stderr.write(`kmodlab: qemu:${name}: ${e.outcome.state}: ${e.outcome.detail}\n`);
    return q.exitCodeFor(e.outcome, false);
  }
  process.stderr.write(`kmodlab: booted ${t.kernel} in ${(t.guest.bootMs / 1000).toFixed(1)} s (${t.guest.accel}, ${t.guest.cpus} vCPUs)\n`);
  let r: GuestStormResult | null = null;
  try {
    r = await runDupStorm(plan, q.guestDupStormTarget(t.guest, t.prepared), logRow);
  } catch (e) {
    if (!(e instanceof q.GuestSessionError)) throw e;
  } finally {
    await t.close();
  }
  const outcome = t.outcome();
  if (!r || outcome.state !== 'ran') {
    pending?.discard();
    process.stderr.write(`kmodlab: ${t.name}: ${outcome.state}: ${outcome.detail}\n`);
    return q.exitCodeFor(outcome, false);
  }
  let cmp: Comparison | null = null;
  let sim: SimDupStormResult | null = null;
  if (model) {
    sim = await runDupStorm(plan, simDupStormTarget({ ...simMachineOf(model, r.cpus), ...overrides }));
    cmp = compareStorms({ label: `real ${name}`, rows: r.rows }, { label: `sim ${model.preset}`, rows: sim.rows });
  }
  if (o.logDir !== undefined) writeJson(`${o.logDir}/storm.json`, { target: t.name, version: t.prepared.version, ...r, sim, differences: cmp?.differences ?? null });
  if (pending) {
    const record = { target: t.name, version: t.prepared.version, ...r, sim, differences: cmp?.differences ?? null };
    process.stderr.write(`kmodlab: results in ${pending.commit(runCommand('dupstorm', r.kernel, t.name), record, undefined)}\n`);
  }
  if (format === 'json') out(JSON.stringify({ target: t.name, version: t.prepared.version, ...r, sim, differences: cmp?.differences ?? null }, null, 2) + '\n');
  else {
    out(`# ${t.name}: ${r.kernel} (${t.prepared.version}), ${r.cpus} vCPUs (${r.accel}), guest kmod ${r.kmodVersion}\n\n${stormTable(r.rows)}`);
    if (cmp && model)
      out(`\n# --compare: real ${name} vs sim ${model.preset} (machine ${model.machine}, ${r.cpus} CPUs, module set ${o.modules ?? o.snapshot ?? model.snapshot}, kmod ${sim!.kmodVersion}, in-kernel decompression ${model.moduleCompression ?? 'off'}); peaks are shown, not compared\n\n${cmp.text}`);
  }
  return cmp && cmp.unexplained > 0 ? 1 : 0;
}
