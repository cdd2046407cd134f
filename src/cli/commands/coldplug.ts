/**
 * DOC: `kmodlab storm --target qemu:NAME [--cpus LIST] [--seeds K] [--cpu-model M]
 * [--machine-type T] [--compare]` — the boot storm on a real kernel, beside the simulator.
 *
 * Each (vCPU count, repetition) boots the kernel once and coldplugs it with the suite's udev
 * (src/targets/qemu/coldplug/). The records are the simulator's storm records (source 'measured'),
 * so the table, chart, CSV, JSON, SVG and HTML reports take them unchanged. With --compare the
 * simulator runs the kernel's matching preset (src/targets/qemu/kernels.ts) on the machine the
 * guest captured of itself — its CPU model and features, every device's modalias, RAM, its udev
 * and kmod versions — with the timings of the kernel's sim machine profile, at the same vCPU
 * counts (each on the guest booted at that count: sim-profile-cN.json in the log directory;
 * sim-profile.json is the first count's) and as many seeds; both sides go into one report and a side-by-side table with the
 * ratio per figure and the modules found on one side only.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import writeFileAtomic from 'write-file-atomic';
import { join, resolve } from 'node:path';
import { InputError } from '../../errors.js';
import { parseCpuList, parseSeed, seedList } from '../../experiments/cpulist.js';
import { runSweep } from '../../experiments/sweep.js';
import { parseShard, runPoints, shardPoints } from '../../experiments/points.js';
import type { StormPoint } from '../../experiments/storm.js';
import { checkOutputDir, checkOutputFile, writeOutputFile } from '../../io/output.js';
import { parseCategoryMode, parseChartStyle, parseFormat, renderHtml, renderReport, renderSvg } from '../../report/index.js';
import type { StormParams, StormRunRecord } from '../../results/record.js';
import { listDone, MANIFEST_FILE, openStore, writeRecord } from '../../results/store.js';
import { loadMachine, parseMachine } from '../../userspace/machines/load.js';
import type { MachineProfile } from '../../userspace/machines/schema.js';
import { intOption, secondsOption } from '../options.js';
import { kmodlabVersion, runCommand } from '../results-option.js';
import { PendingRun } from '../../results/results-dir.js';
import { stdout } from '../stdio.js';

export interface ColdplugCliOpts {
  target?: string;
  cpus: string;
  seed: string;
  seeds: string;
  format: string;
  categories: string;
  /** the terminal chart's style (storm's --chart) */
  chart?: string;
  svg?: string;
  html?: string;
  compare?: boolean;
  accel?: string;
  mem?: string;
  timeout?: string;
  settleTimeout?: string;
  logDir?: string;
  cpuModel?: string;
  machineType?: string;
  cache?: string;
  progress?: boolean;
  out?: string;
  shard?: string;
  reuseLogs?: boolean;
  results?: string;
}

const MiB = 2 ** 20;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return 0;
  return n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/** "85 (83–85)" for repetitions, "85" for one */
function spread(xs: readonly number[], f: (x: number) => string): string {
  if (xs.length <= 1) return f(xs[0] ?? 0);
  return `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
}

function errnoTotals(r: StormRunRecord): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of Object.values(r.failuresByModule)) for (const [e, n] of Object.entries(f)) out[e] = (out[e] ?? 0) + n;
  return out;
}

interface Figure {
  name: string;
  of: (r: StormRunRecord) => number;
  fmt: (x: number) => string;
}

/**
 * The figures compared. Where either side decompressed in the kernel, the failed-attempt bytes
 * are also shown by part, like with like: the decompressor's vmalloc'ed working memory, the
 * decompressed image's vmap()ed pages (on a real kernel from the kml/vmap probe), and what the
 * valloc probe sees (the total less the vmap pages).
 */
function figures(errnos: readonly string[], decompressed: boolean): Figure[] {
  const n = (x: number) => String(Math.round(x));
  const mib = (x: number) => (x / MiB).toFixed(2);
  const by = (r: StormRunRecord) => r.failedAttemptBytesByKind;
  return [
    { name: 'load attempts', of: (r) => r.loadAttempts, fmt: n },
    ...errnos.map((e) => ({ name: `failed ${e}`, of: (r: StormRunRecord) => errnoTotals(r)[e] ?? 0, fmt: n })),
    { name: 'modules loaded', of: (r) => r.modulesLoaded, fmt: n },
    { name: 'wasted MiB (MODULE_STATS)', of: (r) => r.wastedBytes, fmt: mib },
    { name: 'failed-attempt MiB', of: (r) => r.failedAttemptBytes ?? 0, fmt: mib },
    ...(decompressed
      ? [
          { name: 'failed-attempt vmalloc MiB', of: (r: StormRunRecord) => (r.failedAttemptBytes ?? 0) - (by(r)?.vmap ?? 0), fmt: mib },
          { name: 'failed-attempt decompressor MiB', of: (r: StormRunRecord) => by(r)?.workspace ?? 0, fmt: mib },
          { name: 'failed-attempt vmap MiB', of: (r: StormRunRecord) => by(r)?.vmap ?? 0, fmt: mib },
        ]
      : []),
    { name: 'peak vmalloc MiB', of: (r) => r.peakVmallocBytes, fmt: mib },
    { name: 'peak loads in flight', of: (r) => r.peakLoadsInFlight ?? 0, fmt: n },
    { name: 'settle s', of: (r) => r.settleNs, fmt: (x) => (x / 1e9).toFixed(1) },
  ];
}

/** The side-by-side totals, one block per vCPU count. */
export function compareTable(real: readonly StormRunRecord[], sim: readonly StormRunRecord[], cpus: readonly number[]): string {
  const errnos = [...new Set([...real, ...sim].flatMap((r) => Object.keys(errnoTotals(r))))].sort();
  const decompressed = [...real, ...sim].some((r) => (r.failedAttemptBytesByKind?.workspace ?? 0) > 0 || (r.failedAttemptBytesByKind?.vmap ?? 0) > 0);
  const rows: string[][] = [['vCPUs', 'figure', 'real', 'sim', 'sim/real']];
  for (const c of cpus) {
    const R = real.filter((r) => r.cpus === c);
    const S = sim.filter((r) => r.cpus === c);
    for (const [i, f] of figures(errnos, decompressed).entries()) {
      const rv = R.map(f.of);
      const sv = S.map(f.of);
      const ratio = median(rv) === 0 ? (median(sv) === 0 ? '=' : '∞') : (median(sv) / median(rv)).toFixed(2);
      rows.push([i === 0 ? String(c) : '', f.name, spread(rv, f.fmt), spread(sv, f.fmt), ratio]);
    }
  }
  return table(rows);
}

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...(r[i] ?? '')].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

/** Per module at one vCPU count: attempts and errors (median over runs), real and, if given, sim. */
export function moduleTable(real: readonly StormRunRecord[], sim: readonly StormRunRecord[] | null, cpus: number): string {
  const R = real.filter((r) => r.cpus === cpus);
  const S = sim?.filter((r) => r.cpus === cpus) ?? [];
  const mods = new Set<string>();
  for (const r of [...R, ...S]) for (const m of Object.keys(r.loadAttemptsByModule)) mods.add(m);
  const errs = (rs: readonly StormRunRecord[], m: string): string => {
    const names = [...new Set(rs.flatMap((r) => Object.keys(r.failuresByModule[m] ?? {})))].sort();
    return names.map((e) => `${e} ${median(rs.map((r) => r.failuresByModule[m]?.[e] ?? 0))}`).join(', ') || '-';
  };
  const att = (rs: readonly StormRunRecord[], m: string): number => median(rs.map((r) => r.loadAttemptsByModule[m] ?? 0));
  const header = sim ? ['module', 'real tries', 'real failures', 'sim tries', 'sim failures', 'note'] : ['module', 'tries', 'failures'];
  const rows: string[][] = [header];
  const list = [...mods].sort((a, b) => Math.max(att(R, b), att(S, b)) - Math.max(att(R, a), att(S, a)) || (a < b ? -1 : 1));
  for (const m of list) {
    const ra = att(R, m);
    const sa = att(S, m);
    if (ra <= 1 && sa <= 1 && errs(R, m) === '-' && errs(S, m) === '-') continue; // loaded once, cleanly, on both
    const note = ra === 0 ? 'sim only' : sa === 0 ? 'real only' : ra === cpus && sa !== cpus ? 'per-CPU on real' : sa === cpus && ra !== cpus ? 'per-CPU in sim' : '';
    rows.push(sim ? [m, String(ra), errs(R, m), String(sa), errs(S, m), note] : [m, String(ra), errs(R, m)]);
  }
  const onlyReal = [...mods].filter((m) => att(R, m) > 0 && att(S, m) === 0).length;
  const onlySim = [...mods].filter((m) => att(S, m) > 0 && att(R, m) === 0).length;
  const tail = sim ? `modules attempted: ${[...mods].filter((m) => att(R, m) > 0).length} real, ${[...mods].filter((m) => att(S, m) > 0).length} sim; ${onlyReal} only on real, ${onlySim} only in sim\n` : '';
  return `${table(rows)}${tail}`;
}

function mergedInit(base: MachineProfile, captured: MachineProfile): MachineProfile['moduleInit'] {
  const out = { ...base.moduleInit };
  for (const [m, c] of Object.entries(captured.moduleInit))
    if (c.result !== undefined) out[m] = { ...(base.moduleInit[m] ?? { baseNs: base.timings.initDefaultNs, perCpuNs: 0 }), result: c.result };
  return out;
}

/** The simulator's machine: the kernel's sim profile (timings, init results) with the guest's devices. */
export function simProfileFrom(captured: MachineProfile, base: MachineProfile, o: { snapshot: string; kmodVersion: number; udevVersion: number }): MachineProfile {
  const p = {
    ...base,
    name: `${captured.name}-sim`,
    description: `the devices, CPU and RAM the guest captured of itself (${captured.name}), with ${base.name}'s timings`,
    cpus: captured.cpus,
    ...(captured.hostCpus !== undefined ? { hostCpus: captured.hostCpus } : {}),
    ramBytes: captured.ramBytes,
    cpu: captured.cpu,
    acpi: captured.acpi,
    cpufreq: captured.cpufreq,
    devices: captured.devices,
    ...(captured.trigger !== undefined ? { trigger: captured.trigger } : {}),
    // the base's init timings, with the init results the guest showed
    moduleInit: mergedInit(base, captured),
    moduleSet: o.snapshot,
    udev: { ...base.udev, systemdVersion: o.udevVersion },
    kmod: { ...base.kmod, version: o.kmodVersion },
    notes: [...(base.notes ?? []), `devices and CPU captured in the guest by kmodlab storm --target qemu (${captured.name})`],
  };
  delete (p as { captured?: unknown }).captured;
  return parseMachine(p, 'captured guest profile');
}

/**
 * The sim machine of each vCPU count: the guest booted at that count (its first run), not the
 * first boot of the command. The guest's RAM grows with its vCPUs (coldplugMemMiB) and current
 * udev's children_max is RAM / 128 MiB: debian-trixie's 4-vCPU capture (2018 MiB) gave the
 * 16-vCPU sim 15 udev workers for its 16 cpu uevents where the 16-vCPU guest (2703 MiB) had 21.
 */
export function simProfilesByCpus(
  runs: readonly { cpus: number; profile: MachineProfile; udevVersion: number }[],
  base: MachineProfile,
  o: { snapshot: string; kmodVersion: number },
): Map<number, MachineProfile> {
  const out = new Map<number, MachineProfile>();
  for (const r of runs)
    if (!out.has(r.cpus)) out.set(r.cpus, simProfileFrom(r.profile, base, { snapshot: o.snapshot, kmodVersion: o.kmodVersion, udevVersion: r.udevVersion }));
  return out;
}

export async function runColdplugCommand(o: ColdplugCliOpts, command: string): Promise<number> {
  const format = parseFormat(o.format);
  const categories = parseCategoryMode(o.categories);
  const chart = o.chart !== undefined ? parseChartStyle(o.chart) : undefined;
  if (o.svg !== undefined) checkOutputFile('--svg', o.svg);
  if (o.html !== undefined) checkOutputFile('--html', o.html);
  // before any boot: directories that cannot be made fail now (Node's recursive mkdir spins forever under /proc)
  if (o.out !== undefined) checkOutputDir('--out', o.out);
  if (o.logDir !== undefined) checkOutputDir('--log-dir', o.logDir);
  if (o.accel !== undefined && o.accel !== 'tcg' && o.accel !== 'kvm') throw new InputError(`--accel ${o.accel}: want tcg or kvm`);
  const cpus = parseCpuList(o.cpus);
  const seeds = seedList(parseSeed(o.seed), o.seeds);
  // --shard i/N: a fixed slice of the (vCPU count, repetition) runs, as the simulator's sweep slices
  const slice = o.shard !== undefined ? new Set(shardPoints(runPoints({ machine: '', cpus, kernels: [''], seeds }), parseShard(o.shard)).map((p) => `${p.cpus}/${p.seed}`)) : undefined;
  const only = slice !== undefined ? (c: number, s: number) => slice.has(`${c}/${s}`) : undefined;
  const q = await import('../../targets/qemu/index.js');
  const cp = await import('../../targets/qemu/coldplug/index.js');
  const name = q.parseQemuTargetName(o.target!, o.cache);
  const spec = q.resolveKernelSpec(name, o.cache);
  const logDir = resolve(o.logDir ?? join(process.cwd(), `kmodlab-coldplug-${name}`));
  const opts = {
    cpus, seeds, logDir,
    ...(o.cpuModel !== undefined ? { cpuModel: o.cpuModel } : {}),
    ...(o.machineType !== undefined ? { machineType: o.machineType } : {}),
    ...(o.accel !== undefined ? { accel: o.accel as 'tcg' | 'kvm' } : {}),
    ...(o.mem !== undefined ? { memMiB: intOption('--mem', o.mem, 256) } : {}),
    ...(o.timeout !== undefined ? { timeoutS: secondsOption('--timeout', o.timeout, 1) } : {}),
    ...(o.settleTimeout !== undefined ? { settleTimeoutS: secondsOption('--settle-timeout', o.settleTimeout, 1) } : {}),
    ...(o.cache !== undefined ? { cache: o.cache } : {}),
    ...(o.reuseLogs === true ? { reuseLogs: true } : {}),
    ...(only !== undefined ? { only } : {}),
  };
  await cp.checkColdplug(name, opts);
  mkdirSync(logDir, { recursive: true });
  // --results: one run directory for the command, renamed into place once every boot is done
  const pending = o.results !== undefined ? PendingRun.open(o.results) : null;
  // before --out's store is made: a run already stored needs no trace
  if (o.reuseLogs === true) {
    const inStore = o.out !== undefined && existsSync(join(o.out, MANIFEST_FILE)) ? await listDone(o.out) : new Map<string, StormRunRecord>();
    const keys = new Set([...inStore.values()].map((r) => `${r.kernel}/${r.cpus}/${r.seed}`));
    try {
      cp.checkReuseLogs(opts, (c, s) => keys.has(`${name}/${c}/${s}`));
    } catch (e) {
      pending?.discard();
      throw e;
    }
  }
  const params: StormParams = { machine: cp.machineName(name, o.machineType, o.cpuModel), cpus, kernels: o.compare === true ? [name, spec.sim.preset] : [name], seeds, command };
  // --out: a store like the simulator's; runs already in it are not booted again
  const stored = new Map<string, StormRunRecord>();
  if (o.out !== undefined) {
    await openStore(o.out, params);
    for (const r of (await listDone(o.out)).values()) stored.set(`${r.kernel}/${r.cpus}/${r.seed}`, r);
  }
  const profileFile = (c: number, s: number) => join(o.out!, `profile_c${c}_s${s}.json`);
  const done = (c: number, s: number) => {
    const record = stored.get(`${name}/${c}/${s}`);
    if (record === undefined || !existsSync(profileFile(c, s))) return undefined;
    return { record, profile: parseMachine(JSON.parse(readFileSync(profileFile(c, s), 'utf8')), profileFile(c, s)) };
  };
  let runs;
  try {
    runs = await cp.runColdplugs(name, { ...opts, ...(o.out !== undefined ? { done } : {}) }, async (r) => {
      if (o.out === undefined || r.from === 'store') return;
      await writeFileAtomic(profileFile(r.record.cpus, r.record.seed), JSON.stringify(r.profile, null, 2) + '\n');
      await writeRecord(o.out, r.record);
    });
  } catch (e) {
    pending?.discard();
    if (e instanceof cp.ColdplugTimeout || e instanceof cp.ColdplugFailed) {
      process.stderr.write(`kmodlab: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }
  const real = runs.map((r) => r.record);
  let sim: StormRunRecord[] = [];
  if (o.compare === true) {
    const profiles = simProfilesByCpus(runs.map((r) => ({ cpus: r.record.cpus, profile: r.profile, udevVersion: r.udevVersion })), loadMachine(spec.sim.machine), spec.sim);
    writeFileSync(join(logDir, 'sim-profile.json'), JSON.stringify(profiles.get(runs[0]!.record.cpus), null, 2) + '\n');
    const machineFile = new Map<number, string>();
    for (const [c, profile] of profiles) {
      const file = join(logDir, `sim-profile-c${c}.json`);
      writeFileSync(file, JSON.stringify(profile, null, 2) + '\n');
      machineFile.set(c, file);
    }
    const points: StormPoint[] = [];
    for (const c of cpus) for (const s of seeds) if (only === undefined || only(c, s)) points.push({ machine: machineFile.get(c)!, cpus: c, kernel: spec.sim.preset, seed: s });
    // the sim side is seconds of work: run whole each time, and stored under the guest's name
    const res = await runSweep({ points, worker: new URL('../../experiments/storm.js', import.meta.url), ...(o.progress === false ? { progress: false } : {}) });
    // the same machine on both sides (the sim ran on its capture): the reports' series are then
    // the kernels, debian-6.1 beside v6.1-stable
    sim = res.records.map((r) => ({ ...r, machine: params.machine }));
    if (o.out !== undefined) for (const r of sim) await writeRecord(o.out, r);
  }
  const records = [...real, ...sim];
  writeFileSync(join(logDir, 'records.json'), JSON.stringify(records, null, 2) + '\n');
  if (pending !== null) {
    try {
      // each boot's own directory as --log-dir keeps it (console.log, data.log — the trace —,
      // qemu.cmd, qemu.log, record.json, profile.json), beside the command's records
      for (const r of runs) if (existsSync(r.dir)) cpSync(r.dir, join(pending.tmp, `c${r.record.cpus}-s${r.record.seed}`), { recursive: true });
      if (sim.length > 0) pending.write('sim-record.json', JSON.stringify(sim, null, 2) + '\n');
      // record.json holds the real runs only: `baseline diff` keys storm rows by machine, CPUs and seed
      const release = runs[0]?.release ?? name;
      process.stderr.write(`kmodlab: results in ${pending.commit(runCommand('storm', release, `qemu:${name}`), real, undefined)}\n`);
    } catch (e) {
      pending.discard();
      throw e;
    }
  }
  const ropts = { categories, kmodlabVersion: kmodlabVersion(), ...(chart !== undefined ? { chart } : {}) };
  let text = await renderReport(format, records, params, ropts);
  if (format === 'text') {
    if (o.compare === true) text += `\n# real qemu:${name} vs sim ${spec.sim.preset} on the machine the guest captured (median, min–max over ${seeds.length} run${seeds.length > 1 ? 's' : ''})\n\n${compareTable(real, sim, cpus)}`;
    for (const c of cpus) text += `\n# modules tried more than once or failing at ${c} vCPUs\n\n${moduleTable(real, o.compare === true ? sim : null, c)}`;
    const booted = runs.filter((r) => r.from !== 'store' && r.wallMs > 0);
    const wall = cpus
      .filter((c) => booted.some((r) => r.record.cpus === c))
      .map((c) => `${c} vCPUs ${spread(booted.filter((r) => r.record.cpus === c).map((r) => r.wallMs / 1000), (x) => x.toFixed(0))} s, ${booted.find((r) => r.record.cpus === c)!.memMiB} MiB guest`)
      .join('; ');
    text += `\n# ${wall ? `wall time per boot on this host: ${wall}; ` : ''}logs in ${logDir}\n`;
  }
  stdout(text);
  if (o.svg !== undefined) await writeOutputFile('--svg', o.svg, await renderSvg(records, params, ropts));
  if (o.html !== undefined) await writeOutputFile('--html', o.html, await renderHtml(records, params, ropts));
  return 0;
}
