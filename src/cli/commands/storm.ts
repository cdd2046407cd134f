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
// the duplicate-load storms and the real coldplug are imported when chosen: they bring the
// simulator, the selftest and the qemu code, which a simulated coldplug's main thread never uses
import type { ParallelStormOpts } from './dupstorm.js';
import type { ColdplugCliOpts } from './coldplug.js';
import { refuseUnreadStormOptions } from './storm-modes.js';
import { parseCpuList, parseKernelList, parseSeed, seedList } from '../../experiments/cpulist.js';
import { parseShard, runPoints, shardPoints } from '../../experiments/points.js';
import { runSweep, SIGINT_EXIT_CODE } from '../../experiments/sweep.js';
import { checkStormInputs, DEFAULT_RUN_TIMEOUT_MS, LARGE_STORM_CPUS, STORM_YOUNG_GENERATION_MB, type StormPoint } from '../../experiments/storm.js';
import { identityOfPoints } from '../../experiments/storm-identity.js';
import { signalExitCode } from '../../errors.js';
import type { StormParams, StormRunRecord } from '../../results/record.js';
import { checkOutputDir, checkOutputFile, writeOutputFile } from '../../io/output.js';
import { presetNames, type KernelPreset } from '../../kernel/presets.js';
import { DEFAULT_MODULE_AREA_BYTES } from '../../kernel/memory.js';
import { parseCategoryMode, parseChartStyle, parseFormat, renderHtml, renderReport, renderSvg } from '../../report/index.js';
import { loadMachine } from '../../userspace/machines/load.js';
import { intOption, secondsOption } from '../options.js';
import { kmodlabVersion } from '../version.js';

/*
 * Imported when an option or subcommand needs them, so that a plain storm's start-up does not
 * load them: --results (results-dir, results-option and node:child_process), --policy (the
 * TypeScript plug-in loader), a JSON preset file, `storm merge` (the result store).
 */
const resultsDir = async () => ({ ...(await import('../../results/results-dir.js')), ...(await import('../results-option.js')) });

export interface StormOpts {
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
async function kernelPoints(list: string[]): Promise<{ kernels: string[]; presetFiles: Map<string, KernelPreset> }> {
  const presetFiles = new Map<string, KernelPreset>();
  const loadPresetFile = list.some((k) => k.endsWith('.json')) ? (await import('../../io/presets.js')).loadPresetFile : null;
  const kernels = list.map((k) => {
    if (!k.endsWith('.json')) return k;
    const p = loadPresetFile!(k);
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
  checkReportOptions(o);
  const runTimeoutMs = o.runTimeout !== undefined ? secondsOption('--run-timeout', o.runTimeout, 1) * 1000 : DEFAULT_RUN_TIMEOUT_MS;
  if (o.out !== undefined) checkOutputDir('--out', o.out);
  const profile = loadMachine(o.machine);
  const { kernels: presets, presetFiles } = await kernelPoints(parseKernelList(o.kernel, { known: presetNames() }));
  // with a policy plug-in every preset runs with it, labelled PRESET+POLICY in the results
  const plugin = o.policy !== undefined ? await (await import('../../io/policy.js')).loadPolicyPlugin(o.policy) : undefined;
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
    ...(plugin !== undefined ? { policyFile: plugin.module, policyShown: o.policy!, presetName: presetOf.get(p.kernel)! } : {}),
  }));
  // every input the runs share is checked here, before the first run starts; what decides each
  // kernel's results is hashed into the run identities the store keeps (resume recomputes others)
  const inputs = await checkStormInputs(points);
  // --results: one run directory per kernel (its release), each renamed into place when the sweep is whole
  const resultsCode = o.results !== undefined ? await resultsDir() : null;
  const pending = new Map(resultsCode !== null ? kernels.map((k) => [k, resultsCode.PendingRun.open(o.results!)] as const) : []);
  const res = await runSweep({
    points,
    worker: new URL('../../experiments/storm.js', import.meta.url),
    ...(o.out !== undefined ? { outDir: o.out, params } : {}),
    mode: o.inline === true ? 'inline' : 'pool',
    // a sweep of one small run needs no thread: the run bounds its own wall-clock time (wall-clock.ts)
    oneRunInline: (p) => p.cpus < LARGE_STORM_CPUS,
    ...(points.some((p) => p.cpus >= LARGE_STORM_CPUS) ? { workerYoungGenerationMb: STORM_YOUNG_GENERATION_MB } : {}),
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
    const dir = p.commit(resultsCode!.runCommand('storm', resultsCode!.simRelease(k), 'sim'), mine, params.seeds[0]);
    process.stderr.write(`kmodlab: results in ${dir}\n`);
  }
  await emitReports(records, params, o, moduleAreaBytes);
}

/** `kmodlab storm` (declared in ../declare/storm.ts): the coldplug sweep, or with --parallel / --target qemu:NAME the others */
export async function stormCommandAction(o: StormOpts & ParallelStormOpts & Pick<ColdplugCliOpts, 'cpuModel' | 'machineType' | 'settleTimeout' | 'reuseLogs'>, cmd: Command): Promise<void> {
  // an option the chosen storm does not read is refused, never ignored (storm-modes.ts)
  refuseUnreadStormOptions(o, cmd);
  // duplicate-load storms (sim or a real guest) live in dupstorm.ts
  if (o.parallel !== undefined) {
    const { runParallelStorm } = await import('./dupstorm.js');
    return void (process.exitCode = await runParallelStorm(o, cmd));
  }
  // without --parallel, a real kernel's storm is a real coldplug boot
  if (o.target?.startsWith('qemu:') === true) {
    const { runColdplugCommand } = await import('./coldplug.js');
    return void (process.exitCode = await runColdplugCommand({ ...o, target: o.target, cpus: cmd.getOptionValueSource('cpus') === 'default' ? '2' : o.cpus }, ['kmodlab', ...process.argv.slice(2)].join(' ')));
  }
  if (o.target !== undefined && o.target !== 'sim') throw new InputError(`--target ${o.target}: without --parallel, want sim or qemu:NAME`);
  await stormAction(o, ['kmodlab', ...process.argv.slice(2)].join(' '));
}

/** `kmodlab storm merge DIR…` */
export async function mergeAction(dirs: string[], o: Pick<StormOpts, 'format' | 'categories' | 'chart' | 'svg' | 'html' | 'moduleArea'>): Promise<void> {
  checkReportOptions(o);
  if (o.moduleArea !== undefined) parseSize('--module-area', o.moduleArea);
  const { merge } = await import('../../results/store.js');
  const m = await merge(dirs, ['kmodlab', ...process.argv.slice(2)].join(' '));
  const area = o.moduleArea !== undefined ? parseSize('--module-area', o.moduleArea) : DEFAULT_MODULE_AREA_BYTES;
  await emitReports(m.records, m.params, o, area);
}
