/**
 * DOC: `kmodlab storm` — the boot-time coldplug storm, swept over CPU counts, kernel presets and
 * seeds; `kmodlab storm merge DIR…` joins result directories.
 *
 * Wiring only: run points come from src/experiments/points.ts, runs from src/experiments/storm.ts
 * (in a worker-thread pool via src/experiments/sweep.ts), stored and merged results from
 * src/results/store.ts, reports from src/report/.
 */
import type { Command } from 'commander';
import { stdout } from '../stdio.js';
import { InputError } from '../../errors.js';
import { runParallelStorm, type ParallelStormOpts } from './dupstorm.js';
import { runColdplugCommand, type ColdplugCliOpts } from './coldplug.js';
import { parseCpuList, parseKernelList, parseSeed, seedList } from '../../experiments/cpulist.js';
import { parseShard, runPoints, shardPoints } from '../../experiments/points.js';
import { runSweep, SIGINT_EXIT_CODE } from '../../experiments/sweep.js';
import { checkStormInputs, DEFAULT_RUN_TIMEOUT_MS, type StormPoint } from '../../experiments/storm.js';
import { identityOfPoints } from '../../experiments/storm-identity.js';
import { signalExitCode } from '../../errors.js';
import type { StormParams, StormRunRecord } from '../../results/record.js';
import { merge } from '../../results/store.js';
import { checkOutputDir, checkOutputFile, writeOutputFile } from '../../io/output.js';
import { loadPolicyPlugin } from '../../io/policy.js';
import { loadPresetFile } from '../../io/presets.js';
import { presetNames, type KernelPreset } from '../../kernel/presets.js';
import { DEFAULT_MODULE_AREA_BYTES } from '../../kernel/memory.js';
import { parseCategoryMode, parseChartStyle, parseFormat, renderHtml, renderReport, renderSvg } from '../../report/index.js';
import { loadMachine } from '../../userspace/machines/load.js';
import { intOption } from '../options.js';
import { kmodlabVersion, runCommand } from '../results-option.js';
import { PendingRun, simRelease } from '../../results/results-dir.js';

/** the main job's default sweep: the upstream graph's shape in a few seconds */
export const DEFAULT_STORM = { machine: 'kvm-guest', cpus: '1,8,32,64,128,255', kernel: 'v6.1-stable,v6.4,newest' };

interface StormOpts {
  machine: string;
  cpus: string;
  kernel: string;
  seed: string;
  seeds: string;
  modules?: string;
  snapshot?: string;
  kmodVersion?: string;
  moduleArea?: string;
  policy?: string;
  format: string;
  categories: string;
  /** the terminal chart's style: lines (default) or dumb */
  chart?: string;
  out?: string;
  shard?: string;
  svg?: string;
  html?: string;
  threads?: string;
  inline?: boolean;
  progress?: boolean;
  results?: string;
  runTimeout?: string;
}

/** options of the duplicate-load storm (`--parallel`) and of real targets: refused on the coldplug storm, where they would be ignored */
const PARALLEL_ONLY = [
  ['--module', 'module'],
  ['--path', 'path'],
  ['--state', 'state'],
  ['--compare', 'compare'],
  ['--mem', 'mem'],
  ['--timeout', 'timeout'],
  ['--accel', 'accel'],
  ['--log-dir', 'logDir'],
] as const;

function refuseParallelOnly(o: Record<string, unknown>): void {
  for (const [flag, key] of PARALLEL_ONLY) {
    if (o[key] !== undefined) throw new InputError(`${flag}: only with --parallel (the duplicate-load storm) or --target qemu:NAME`);
  }
  if (o.target !== undefined && o.target !== 'sim') throw new InputError(`--target ${String(o.target)}: without --parallel, want sim or qemu:NAME`);
}

/** bytes, or a number with a K/M/G suffix (binary units) */
export function parseSize(name: string, v: string): number {
  const m = /^(\d+)([KMG]i?B?)?$/i.exec(v);
  if (m === null) throw new InputError(`${name} ${v}: want bytes, or a number with K, M or G`);
  const mult = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 }[(m[2] ?? '').charAt(0).toUpperCase()] ?? 1;
  const n = Number(m[1]) * mult;
  if (!Number.isSafeInteger(n) || n <= 0) throw new InputError(`${name} ${v}: out of range`);
  return n;
}

/** `--kernel` names: presets, or JSON preset files (the run's kernel is then the preset's name) */
function kernelPoints(list: string[]): { kernels: string[]; presetFiles: Map<string, KernelPreset> } {
  const presetFiles = new Map<string, KernelPreset>();
  const kernels = list.map((k) => {
    if (!k.endsWith('.json')) return k;
    const p = loadPresetFile(k);
    presetFiles.set(p.name, p);
    return p.name;
  });
  return { kernels, presetFiles };
}

async function writeOut(option: string, file: string, text: string): Promise<void> {
  await writeOutputFile(option, file, text);
  process.stderr.write(`kmodlab: wrote ${file}\n`);
}

type ReportOpts = Pick<StormOpts, 'format' | 'categories' | 'chart' | 'svg' | 'html'>;

/** the report options, checked before any work: format, chart mode, the output files' directories */
function checkReportOptions(o: ReportOpts): void {
  parseFormat(o.format);
  parseCategoryMode(o.categories);
  if (o.chart !== undefined) parseChartStyle(o.chart);
  if (o.svg !== undefined) checkOutputFile('--svg', o.svg);
  if (o.html !== undefined) checkOutputFile('--html', o.html);
}

async function emitReports(records: readonly StormRunRecord[], params: StormParams, o: ReportOpts, moduleAreaBytes: number): Promise<void> {
  const format = parseFormat(o.format);
  const categories = parseCategoryMode(o.categories);
  const opts = { moduleAreaBytes, categories, kmodlabVersion: kmodlabVersion(), ...(o.chart !== undefined ? { chart: parseChartStyle(o.chart) } : {}) };
  stdout(await renderReport(format, records, params, opts));
  if (o.svg !== undefined) await writeOut('--svg', o.svg, await renderSvg(records, params, opts));
  if (o.html !== undefined) await writeOut('--html', o.html, await renderHtml(records, params, opts));
}

/** the words for the parts of a run identity that changed (storm-identity.ts), and the store's other reasons */
const STALE_WORDS: Readonly<Record<string, string>> = {
  model: "kmodlab's model",
  preset: 'the preset',
  machine: 'the machine profile',
  modules: 'the module set',
  policy: 'the policy',
  kmod: 'the kmod version',
  moduleArea: 'the module area size',
};

function staleWords(why: readonly string[]): string {
  const changed = why.filter((w) => w in STALE_WORDS).map((w) => STALE_WORDS[w]!);
  const out: string[] = [];
  if (changed.length > 0) out.push(`changed since they were stored: ${changed.join(', ')}`);
  if (why.includes('edited')) out.push('a record edited by hand (checksum mismatch)');
  if (why.includes('no identity')) out.push('stored by an older kmodlab, without a run identity');
  if (why.includes('run point')) out.push('stored for another run');
  return out.join('; ');
}

/** the finished runs of an interrupted sweep: text formats say `partial` on their first line, the HTML/SVG in the command */
async function emitPartial(records: readonly StormRunRecord[], params: StormParams, o: ReportOpts, moduleAreaBytes: number, note: string): Promise<void> {
  const format = parseFormat(o.format);
  if (format === 'text' || format === 'table' || format === 'md' || format === 'chart') stdout(`${note}\n`);
  // the --svg/--html files are not written: a partial report would replace a whole one
  const opts = { moduleAreaBytes, categories: parseCategoryMode(o.categories), kmodlabVersion: kmodlabVersion(), ...(o.chart !== undefined ? { chart: parseChartStyle(o.chart) } : {}) };
  stdout(await renderReport(format, records, { ...params, command: `${params.command ?? ''} (${note})` }, opts));
}

async function stormAction(o: StormOpts, command: string): Promise<void> {
  refuseParallelOnly(o as unknown as Record<string, unknown>);
  checkReportOptions(o);
  const runTimeoutMs = o.runTimeout !== undefined ? intOption('--run-timeout', o.runTimeout, 1) * 1000 : DEFAULT_RUN_TIMEOUT_MS;
  if (o.out !== undefined) checkOutputDir('--out', o.out);
  const profile = loadMachine(o.machine);
  const { kernels: presets, presetFiles } = kernelPoints(parseKernelList(o.kernel, { known: presetNames() }));
  // with a policy plug-in every preset runs with it, labelled PRESET+POLICY in the results
  const plugin = o.policy !== undefined ? await loadPolicyPlugin(o.policy) : undefined;
  const policyName = plugin?.policy.name;
  const label = (k: string): string => (policyName !== undefined ? `${k}+${policyName}` : k);
  const presetOf = new Map(presets.map((k) => [label(k), k]));
  const kernels = presets.map(label);
  const params: StormParams = {
    machine: profile.name,
    cpus: parseCpuList(o.cpus),
    kernels,
    seeds: seedList(parseSeed(o.seed), o.seeds),
    command,
  };
  const moduleAreaBytes = o.moduleArea !== undefined ? parseSize('--module-area', o.moduleArea) : DEFAULT_MODULE_AREA_BYTES;
  const shared: Omit<StormPoint, keyof ReturnType<typeof runPoints>[number]> = {
    ...(o.modules !== undefined ? { modulesDir: o.modules } : {}),
    ...(o.snapshot !== undefined ? { snapshot: o.snapshot } : {}),
    ...(o.kmodVersion !== undefined ? { kmodVersion: intOption('--kmod-version', o.kmodVersion, 1) } : {}),
    ...(o.moduleArea !== undefined ? { moduleAreaBytes } : {}),
    ...(o.runTimeout !== undefined ? { runTimeoutMs } : {}),
  };
  // a profile given as a path is run by path; records name it by its profile name
  const machineArg = o.machine;
  const points: StormPoint[] = shardPoints(runPoints(params), o.shard !== undefined ? parseShard(o.shard) : null).map((p) => ({
    ...p,
    machine: machineArg,
    ...shared,
    ...(presetFiles.has(presetOf.get(p.kernel)!) ? { preset: presetFiles.get(presetOf.get(p.kernel)!)! } : {}),
    ...(plugin !== undefined ? { policyFile: plugin.module, presetName: presetOf.get(p.kernel)! } : {}),
  }));
  // every input the runs share is checked here, before the first run starts; what decides each
  // kernel's results is hashed into the run identities the store keeps (resume recomputes others)
  const inputs = await checkStormInputs(points);
  // --results: one run directory per kernel (its release), each renamed into place when the sweep is whole
  const pending = new Map(o.results !== undefined ? kernels.map((k) => [k, PendingRun.open(o.results!)] as const) : []);
  const res = await runSweep({
    points,
    worker: new URL('../../experiments/storm.js', import.meta.url),
    ...(o.out !== undefined ? { outDir: o.out, params } : {}),
    mode: o.inline === true ? 'inline' : 'pool',
    ...(o.threads !== undefined ? { threads: intOption('--threads', o.threads, 1) } : {}),
    ...(o.progress === false ? { progress: false } : {}),
    identity: identityOfPoints(inputs),
    onStale: (n, why) => process.stderr.write(`kmodlab: --out ${o.out}: recomputing ${n} stored run${n === 1 ? '' : 's'} (${staleWords(why)})\n`),
    // the run checks its own budget between events; this stops a thread that never returns to it
    watchdogMs: runTimeoutMs + Math.max(5000, runTimeoutMs / 10),
  }).catch((e: unknown) => {
    for (const p of pending.values()) p.discard();
    throw e;
  });
  const records = res.records.map((r) => ({ ...r, machine: profile.name }));
  if (res.interrupted) {
    for (const p of pending.values()) p.discard();
    const by = res.signal ?? 'SIGINT';
    process.exitCode = res.signal !== undefined ? signalExitCode(res.signal) : SIGINT_EXIT_CODE;
    const done = `${res.records.length} of ${res.total} runs done`;
    if (o.out !== undefined) {
      process.stderr.write(`kmodlab: interrupted by ${by}: ${done}; re-run with the same --out to resume\n`);
      return;
    }
    // no store: the finished runs would be lost, so they are the output, marked partial
    process.stderr.write(`kmodlab: interrupted by ${by}: ${done}${records.length > 0 ? ' (printed, marked partial)' : ''}; without --out nothing is kept for a resume\n`);
    try {
      if (records.length > 0) await emitPartial(records, params, o, moduleAreaBytes, `partial: ${done} (interrupted by ${by})`);
    } catch {
      // the terminal went away with the signal (SIGHUP): nowhere left to print; the exit code says it
    }
    return;
  }
  for (const [k, p] of pending) {
    const mine = records.filter((r) => r.kernel === k);
    const dir = p.commit(runCommand('storm', simRelease(k), 'sim'), mine, params.seeds[0]);
    process.stderr.write(`kmodlab: results in ${dir}\n`);
  }
  await emitReports(records, params, o, moduleAreaBytes);
}

export function register(program: Command): void {
  const storm = program
    .command('storm')
    .description('boot-time coldplug storm: duplicate-load waste vs CPU count and kernel')
    // options after `merge` are merge's (same names as storm's own, which would otherwise take them)
    .enablePositionalOptions()
    .option('--machine <profile>', 'machine profile (name in data/machines or a JSON file)', DEFAULT_STORM.machine)
    .option('--cpus <list>', 'CPU counts: 1,8,64-512:64', DEFAULT_STORM.cpus)
    .option('--kernel <list>', 'kernel presets (or preset JSON files), comma-separated', DEFAULT_STORM.kernel)
    .option('--seed <n>', 'first seed', '1')
    .option('--seeds <k>', 'seeds per point (median and spread are reported)', '1')
    .option('--modules <dir>', 'a real /lib/modules/<release> tree instead of the profile\'s snapshot')
    .option('--snapshot <name>', 'a shipped module-set snapshot (debian-6.1, debian-6.12, debian-6.1-dbg, debian-6.12-dbg) or a snapshot file')
    .option('--kmod-version <n>', "userspace kmod version (default: the profile's)")
    .option('--module-area <size>', 'module area size (bytes or K/M/G; default 1008M)')
    .option('--policy <file>', 'a same-name policy plug-in (.js/.ts) replacing the duplicate handling')
    .option('--format <fmt>', 'text|table|md|chart|csv|json|jsonl|svg|html', 'text')
    .option('--categories <mode>', 'waste chart: total|stacked|grouped', 'total')
    .option('--chart <style>', "the terminal chart (--format text|chart): lines (default), or dumb (gnuplot's dumb terminal look, ASCII, to paste in a mail)")
    .option('--out <dir>', 'store one result file per run (atomic); re-running resumes')
    .option('--shard <i/N>', 'run only slice i of N of the sweep')
    .option('--svg <file>', 'also write the charts as SVG')
    .option('--html <file>', 'also write a self-contained HTML report')
    .option('--threads <n>', 'worker threads (default: available CPUs)')
    .option('--inline', 'run in this thread, one run at a time')
    .option('--no-progress', 'no progress bar')
    .option('--target <t>', 'sim (default), or qemu:NAME: a real kernel in a VM (a real udev coldplug; with --parallel, N loads of one module)')
    .option('--parallel <list>', 'duplicate-load storm: N concurrent loads of one module, for each N (e.g. 1,2,4)')
    .option('--module <list>', '--parallel: xfs, kml_slow, kml_fail (default all)')
    .option('--path <list>', '--parallel: finit, finit-compressed, init, modprobe (default all)')
    .option('--state <list>', '--parallel: the module before each storm: cold (not loaded; default), live (loaded and LIVE; xfs and kml_slow)')
    .option('--compare', 'qemu:NAME: also run the sim model of that kernel, side by side')
    .option('--mem <MiB>', 'qemu: guest memory')
    .option('--timeout <s>', 'qemu: session deadline (s)')
    .option('--accel <a>', 'qemu: tcg, kvm or auto')
    .option('--log-dir <dir>', 'qemu: keep the guest logs and storm.json here')
    .option('--cpu-model <model>', 'qemu coldplug: the guest\'s x86 CPU model (default Cascadelake-Server)')
    .option('--machine-type <type>', 'qemu coldplug: the QEMU machine type (default q35)')
    .option('--settle-timeout <s>', 'qemu coldplug: udevadm settle --timeout (default 600)')
    .option('--reuse-logs', 'qemu coldplug: rebuild runs whose --log-dir holds a finished trace from it, without booting')
    .option('--results <dir>', 'keep each run in DIR/<release>/<run id>/ (record, command; qemu: the guest logs)')
    .option('--run-timeout <s>', 'sim: wall-clock seconds one run may take before it counts as hung (default 600)')
    .action(async (o: StormOpts & ParallelStormOpts & Pick<ColdplugCliOpts, 'cpuModel' | 'machineType' | 'settleTimeout' | 'reuseLogs'>, cmd: Command) => {
      if (o.runTimeout !== undefined && (o.parallel !== undefined || o.target?.startsWith('qemu:') === true))
        throw new InputError('--run-timeout: only on the simulated coldplug storm (without --parallel or a qemu target)');
      // duplicate-load storms (sim or a real guest) live in dupstorm.ts
      if (o.parallel !== undefined) return void (process.exitCode = await runParallelStorm(o, cmd));
      // without --parallel, a real kernel's storm is a real coldplug boot
      if (o.target?.startsWith('qemu:') === true) {
        // what the simulator alone reads is an error here, never ignored
        for (const k of ['machine', 'kernel', 'policy', 'modules', 'snapshot', 'kmodVersion', 'moduleArea', 'inline', 'threads'])
          if (cmd.getOptionValueSource(k) === 'cli') throw new InputError(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: not with --target ${o.target} (the real coldplug boots the kernel's own module tree on the guest it captures)`);
        return void (process.exitCode = await runColdplugCommand({ ...o, target: o.target, cpus: cmd.getOptionValueSource('cpus') === 'default' ? '2' : o.cpus }, ['kmodlab', ...process.argv.slice(2)].join(' ')));
      }
      await stormAction(o, ['kmodlab', ...process.argv.slice(2)].join(' '));
    });

  storm
    .command('merge')
    .description('join result directories (from --out, e.g. one per --shard) and report them')
    .argument('<dirs...>', 'result directories')
    .option('--format <fmt>', 'text|table|md|chart|csv|json|jsonl|svg|html', 'text')
    .option('--categories <mode>', 'waste chart: total|stacked|grouped', 'total')
    .option('--chart <style>', "the terminal chart (--format text|chart): lines (default), or dumb (gnuplot's dumb terminal look, ASCII, to paste in a mail)")
    .option('--module-area <size>', 'module area size for the charts (default 1008M)')
    .option('--svg <file>', 'also write the charts as SVG')
    .option('--html <file>', 'also write a self-contained HTML report')
    .action(async (dirs: string[], o: Pick<StormOpts, 'format' | 'categories' | 'chart' | 'svg' | 'html' | 'moduleArea'>) => {
      checkReportOptions(o);
      if (o.moduleArea !== undefined) parseSize('--module-area', o.moduleArea);
      const m = await merge(dirs, ['kmodlab', ...process.argv.slice(2)].join(' '));
      const area = o.moduleArea !== undefined ? parseSize('--module-area', o.moduleArea) : DEFAULT_MODULE_AREA_BYTES;
      await emitReports(m.records, m.params, o, area);
    });
}
