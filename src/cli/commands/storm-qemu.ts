/**
 * DOC: `kmodlab storm --parallel LIST [--target qemu:NAME|sim] [--module M] [--path P] [--compare]`
 * — duplicate-load storms: N concurrent loads of one module released at the same moment.
 *
 *   --target qemu:NAME   in a real guest (runGuestStorm, src/targets/qemu/storm.ts)
 *   --target sim (default), or sim:PRESET
 *                        on the simulator (src/experiments/parallel.ts), once per --kernel preset
 *   --compare            (qemu only) the same plan on the sim model of that kernel
 *                        (SIM_KERNEL_MODELS: v6.1-stable for debian-6.1, v6.11 for debian-6.12,
 *                        machine profile qemu-tcg, the guest's vCPU count), side by side
 *
 * Reported per module, load path and N: the outcome counts (0, EEXIST, EBUSY, the init's error;
 * for modprobe its exit code and the errno in its message) and the peak VmallocUsed. Exit codes
 * as `kmodlab kernel storm`: 0 ran, 3 boot failure, 5 kernel panic, 124 timeout; with --compare,
 * 1 when the two sides disagree in a way nothing explains (a finding, printed with ≠).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { runSimParallel, SIM_KERNEL_MODELS, type SimKernelModel } from '../../experiments/parallel.js';
import { presetNames } from '../../kernel/presets.js';
import { compareTables, type Comparison, type Explain, type OutcomeTable } from '../../experiments/compare.js';
import type { GuestStormResult, GuestStormRow, StormMode } from '../../targets/qemu/storm.js';
import type { QemuTarget } from '../../targets/qemu/target.js';
import { intOption } from '../options.js';

/** the options the parallel storm reads (the storm command's, plus its own) */
export interface ParallelStormOpts {
  target?: string;
  parallel?: string;
  module?: string;
  path?: string;
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
}

const MODES: readonly StormMode[] = ['finit', 'finit-compressed', 'init', 'modprobe'];
const MODULES = ['xfs', 'kml_slow', 'kml_fail'];

function list<T extends string>(name: string, v: string | undefined, known: readonly T[]): T[] {
  if (v === undefined) return [...known];
  const out = v.split(',').map((x) => x.trim());
  for (const x of out) if (!known.includes(x as T)) throw new InputError(`${name} ${v}: unknown ${x} (want ${known.join(', ')})`);
  return out as T[];
}

/** "1,2,4" → [1, 2, 4] */
export function parseParallel(s: string): number[] {
  const out = s.split(',').map((x) => x.trim());
  if (!out.length || out.some((x) => !/^\d+$/.test(x) || Number(x) < 1 || Number(x) > 1024))
    throw new InputError(`--parallel ${s}: want a comma-separated list of integers 1..1024`);
  return out.map(Number);
}

export function countsText(c: Record<string, number>): string {
  return Object.entries(c)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, v]) => `${k} ×${v}`)
    .join(', ');
}

/** A storm result as an outcome table: the counts compared, the peak shown. */
export function stormOutcomeTable(rows: readonly GuestStormRow[]): OutcomeTable {
  return {
    keyColumns: ['module', 'path', 'N'],
    valueColumns: ['outcomes'],
    infoColumns: ['peak VmallocUsed +KiB'],
    rows: rows.map((r) => ({
      key: [r.module, r.mode, String(r.n)],
      values: [countsText(r.counts)],
      info: [String(r.peakVmallocKiB - r.baselineVmallocKiB)],
    })),
  };
}

function parseCounts(s: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const part of s.split(', ')) {
    const i = part.lastIndexOf(' ×');
    if (i > 0) m.set(part.slice(0, i), Number(part.slice(i + 2)));
  }
  return m;
}

export const MODPROBE_TIMING_NOTE =
  'timing-dependent: N modprobe processes reach the kernel over 1–4 s under TCG (fork, exec, userspace work), not at one instant; ' +
  'one that arrives after the previous failed load is gone becomes a first loader and runs the failing init again ' +
  '(same outcomes, different split; data/calibration/debian-6.12.md)';

/**
 * Known differences: only modprobe storms of a module whose init fails, where the real guest got
 * more first-loader answers (the init's error) and fewer EBUSY than the sim, with the same N
 * and no other outcome. Anything else is a finding.
 */
export const explainStorm: Explain = (key, column, real, sim) => {
  if (column !== 'outcomes' || key[1] !== 'modprobe') return null;
  const r = parseCounts(real);
  const s = parseCounts(sim);
  const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  if (total(r) !== total(s) || total(r) !== Number(key[2])) return null;
  const busy = 'exit 1 EBUSY';
  const others = [...r.keys(), ...s.keys()].filter((k) => k !== busy);
  if (new Set(others).size !== 1) return null;
  const first = others[0]!;
  if (!first.startsWith('exit 1 ')) return null;
  return (r.get(first) ?? 0) > (s.get(first) ?? 0) ? MODPROBE_TIMING_NOTE : null;
};

export function compareStorms(real: { label: string; rows: readonly GuestStormRow[] }, sim: { label: string; rows: readonly GuestStormRow[] }): Comparison {
  return compareTables({ label: real.label, table: stormOutcomeTable(real.rows) }, { label: sim.label, table: stormOutcomeTable(sim.rows) }, explainStorm);
}

function plainTable(rows: readonly GuestStormRow[]): string {
  const lines = ['| module | load path | N | outcomes | VmallocUsed before → peak (KiB) | last return (ms) |', '| --- | --- | --- | --- | --- | --- |'];
  for (const r of rows)
    lines.push(
      `| ${r.module} | ${r.mode} | ${r.n} | ${countsText(r.counts)} | ${r.baselineVmallocKiB} → ${r.peakVmallocKiB} (+${r.peakVmallocKiB - r.baselineVmallocKiB}) | ${(r.spanUs / 1000).toFixed(0)} |`,
    );
  return lines.join('\n') + '\n';
}

function writeJson(file: string, v: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(v, null, 2) + '\n');
}

/** The sim model for a qemu kernel name. */
export function simModelFor(name: string): SimKernelModel {
  const m = SIM_KERNEL_MODELS[name];
  if (!m) throw new InputError(`--compare: no sim model for ${name} (known: ${Object.keys(SIM_KERNEL_MODELS).join(', ')})`);
  return m;
}

/** Entry point from `kmodlab storm` when --parallel or --target qemu:NAME is given. */
export async function runParallelStorm(o: ParallelStormOpts, cmd?: Command): Promise<number> {
  const given = (k: string) => cmd === undefined || cmd.getOptionValueSource(k) !== 'default';
  if (o.parallel === undefined) throw new InputError('--target qemu:NAME: needs --parallel LIST');
  const parallel = parseParallel(o.parallel);
  const modules = list('--module', o.module, MODULES);
  const modes = list('--path', o.path, MODES);
  const cpus = o.cpus !== undefined && given('cpus') ? intOption('--cpus', o.cpus, 1) : 2;
  const format = o.format !== undefined && given('format') ? o.format : 'text';
  if (format !== 'text' && format !== 'json') throw new InputError(`--format ${format}: --parallel storms print text or json`);
  const out = (s: string) => process.stdout.write(s);
  const target = o.target ?? 'sim';

  if (!target.startsWith('qemu:')) {
    // the simulator: one table per kernel preset
    let kernels: string[];
    if (target.startsWith('sim:')) kernels = [target.slice(4)];
    else if (target === 'sim') kernels = (o.kernel ?? 'newest').split(',');
    else throw new InputError(`--target ${target}: want sim, sim:PRESET or qemu:NAME`);
    for (const k of kernels) if (!presetNames().includes(k)) throw new InputError(`kernel ${k}: unknown preset`);
    if (o.compare) throw new InputError('--compare: only with --target qemu:NAME (it compares a real kernel with its sim model)');
    for (const [flag, v] of [['--mem', o.mem], ['--timeout', o.timeout], ['--accel', o.accel], ['--log-dir', o.logDir]] as const)
      if (v !== undefined) throw new InputError(`${flag}: only with --target qemu:NAME`);
    const results = kernels.map((k) =>
      runSimParallel({ kernel: k, cpus, parallel, modules, modes, ...(o.machine !== undefined && given('machine') ? { machine: o.machine } : {}), ...(o.seed !== undefined ? { seed: intOption('--seed', o.seed, 0) } : {}) }),
    );
    if (format === 'json') out(JSON.stringify(results, null, 2) + '\n');
    else for (const r of results) out(`# sim ${r.kernel} on ${r.machine}, ${r.cpus} CPUs, kmod ${r.kmodVersion}\n\n${plainTable(r.rows)}\n`);
    return 0;
  }

  // a real guest
  const q = await import('../../targets/qemu/index.js');
  const name = q.parseQemuTargetName(target);
  if (o.accel !== undefined && !['tcg', 'kvm', 'auto'].includes(o.accel)) throw new InputError(`--accel ${o.accel}: want tcg, kvm or auto`);
  const model = o.compare ? simModelFor(name) : null;
  let t: QemuTarget;
  try {
    t = await q.createQemuTarget(name, {
      cpus,
      ...(o.mem !== undefined ? { memMiB: intOption('--mem', o.mem, 256) } : {}),
      ...(o.timeout !== undefined ? { timeoutS: intOption('--timeout', o.timeout, 0) } : {}),
      ...(o.accel !== undefined ? { accel: o.accel as 'tcg' | 'kvm' | 'auto' } : {}),
      ...(o.logDir !== undefined ? { logDir: o.logDir } : {}),
      ...(o.cache !== undefined ? { cache: o.cache } : {}),
    });
  } catch (e) {
    if (!(e instanceof q.GuestSessionError)) throw e;
    process.stderr.write(`kmodlab: qemu:${name}: ${e.outcome.state}: ${e.outcome.detail}\n`);
    return q.exitCodeFor(e.outcome, false);
  }
  process.stderr.write(`kmodlab: booted ${t.kernel} in ${(t.guest.bootMs / 1000).toFixed(1)} s (${t.guest.accel}, ${t.guest.cpus} vCPUs)\n`);
  let r: GuestStormResult | null = null;
  try {
    r = await q.runGuestStorm(t.guest, t.prepared, { parallel, modules, modes, log: (s) => process.stderr.write(`kmodlab: ${s}\n`) });
  } catch (e) {
    if (!(e instanceof q.GuestSessionError)) throw e;
  } finally {
    await t.close();
  }
  const outcome = t.outcome();
  if (!r || outcome.state !== 'ran') {
    process.stderr.write(`kmodlab: ${t.name}: ${outcome.state}: ${outcome.detail}\n`);
    return q.exitCodeFor(outcome, false);
  }
  let cmp: Comparison | null = null;
  let sim = null;
  if (model) {
    sim = runSimParallel({
      kernel: model.preset,
      snapshot: model.snapshot,
      moduleCompression: model.moduleCompression,
      kmodVersion: model.kmodVersion,
      cpus: r.cpus,
      parallel,
      modules,
      modes,
    });
    cmp = compareStorms({ label: `real ${name}`, rows: r.rows }, { label: `sim ${model.preset}`, rows: sim.rows });
  }
  if (o.logDir !== undefined) writeJson(`${o.logDir}/storm.json`, { target: t.name, version: t.prepared.version, ...r, sim, differences: cmp?.differences ?? null });
  if (format === 'json') out(JSON.stringify({ target: t.name, version: t.prepared.version, ...r, sim, differences: cmp?.differences ?? null }, null, 2) + '\n');
  else {
    out(`# ${t.name}: ${r.kernel} (${t.prepared.version}), ${r.cpus} vCPUs (${r.accel}), guest kmod ${r.kmodVersion}\n\n${plainTable(r.rows)}`);
    if (cmp && model)
      out(`\n# --compare: real ${name} vs sim ${model.preset} (machine qemu-tcg, ${r.cpus} CPUs, module set ${model.snapshot}, kmod ${model.kmodVersion}, in-kernel decompression ${model.moduleCompression ?? 'off'}); peaks are shown, not compared\n\n${cmp.text}`);
  }
  return cmp && cmp.unexplained > 0 ? 1 : 0;
}
