/**
 * DOC: `kmodlab explore SCENARIO` — many schedules of a small scenario on one or more presets;
 * every distinct outcome with count, share, 95% interval and the schedule that replays it, the
 * rare or failing ones shrunk to a minimal step list; several presets side by side. `--replay
 * SEED [--path P] [--drop NAMES]` runs one schedule again (with its trace and dmesg); `--out DIR`
 * keeps the exploration on disk and resumes it. Wiring only: the explorer is experiments/explore/.
 */
import type { Command } from 'commander';
import { EXIT_INTERRUPTED, InputError } from '../../errors.js';
import { parsePath, pathOf, pathText, readableSteps, type Strategy } from '../../experiments/explore/choices.js';
import { explore, shrinkOutcome, type Exploration } from '../../experiments/explore/explore.js';
import { explorationJson, formatExploration, formatSideBySide } from '../../experiments/explore/format.js';
import { runSchedule } from '../../experiments/explore/run.js';
import { loadStored, saveStored, type StoreKey } from '../../experiments/explore/store.js';
import { checkOutputDir, checkOutputFile, writeOutputFile } from '../../io/output.js';
import { loadScenarioFile } from '../../io/scenario.js';
import { toChromeTrace } from '../../report/trace.js';
import { loadMachine } from '../../userspace/machines/load.js';
import { intOption } from '../options.js';

interface Opts {
  kernel?: string;
  runs: string;
  budget?: string;
  strategy: string;
  depth: string;
  points: string;
  seed: string;
  format: string;
  replay?: string;
  path?: string;
  drop?: string;
  trace?: string;
  dmesg?: string;
  out?: string;
  shrink: boolean;
}

/** how often --out is rewritten during a long exploration */
const SAVE_EVERY_MS = 1000;

/** `kmodlab explore SCENARIO` (declared in ../declare/explore.ts) */
export async function exploreAction(name: string, o: Opts, cmd?: Command): Promise<void> {
  // options and output paths first: a bad --trace/--dmesg must not come after the work
  for (const [opt, file] of [['--trace', o.trace], ['--dmesg', o.dmesg]] as const) {
    if (file === undefined) continue;
    if (o.replay === undefined) throw new InputError(`${opt}: only with --replay SEED`);
    checkOutputFile(opt, file);
  }
  for (const [opt, v] of [['--path', o.path], ['--drop', o.drop]] as const) if (v !== undefined && o.replay === undefined) throw new InputError(`${opt}: only with --replay SEED`);
  if (o.out !== undefined) {
    if (o.replay !== undefined) throw new InputError('--out: not with --replay');
    checkOutputDir('--out', o.out);
  }
  const path = o.path === undefined ? undefined : o.path === 'defaults' ? [] : parsePath(o.path);
  if (path === null) throw new InputError(`--path ${o.path}: want decisions like 0:2:1 (non-negative integers joined by ':') or defaults`);
  if (o.strategy !== 'random' && o.strategy !== 'pct' && o.strategy !== 'exhaustive') throw new InputError(`--strategy ${o.strategy}: want random, pct or exhaustive`);
  if (o.format !== 'text' && o.format !== 'json') throw new InputError(`--format ${o.format}: want text or json`);
  const strategy = o.strategy as Strategy;
  const depth = intOption('--depth', o.depth, 1);
  const points = intOption('--points', o.points, 2);
  const seed0 = intOption('--seed', o.seed, 0);
  const sc = await loadScenarioFile(name);
  const machine = loadMachine(sc.machine.profile);
  const kernels = o.kernel !== undefined ? o.kernel.split(',') : sc.kernels;
  const drop = o.drop === undefined ? [] : o.drop.split(',');
  for (const d of drop) if (!sc.processes.some((p) => p.name === d)) throw new InputError(`--drop ${o.drop}: ${d} is not a process of scenario ${sc.name} (${sc.processes.map((p) => p.name).join(', ')})`);

  if (o.replay !== undefined) {
    const seed = intOption('--replay', o.replay, 0);
    // one file per option: a second preset would overwrite the first's
    for (const [opt, file] of [['--trace', o.trace], ['--dmesg', o.dmesg]] as const)
      if (file !== undefined && kernels.length > 1) throw new InputError(`${opt}: one preset at a time; give --kernel P (scenario ${sc.name} runs on ${kernels.join(', ')})`);
    for (const kernel of kernels) {
      const pathMode = path !== undefined || drop.length > 0;
      const r = runSchedule(sc, machine, { kernel, strategy, seed, depth, points, log: o.trace !== undefined, ...(pathMode ? { path: path ?? [] } : {}), drop });
      const how = pathMode ? `, path ${pathText(pathOf(r.choices.decisions)) || 'defaults'}${drop.length ? `, without ${drop.join(', ')}` : ''}` : strategy === 'pct' ? `, pct depth ${depth}` : '';
      process.stdout.write(`${sc.name} on ${kernel}, seed ${seed}${how}: ${r.key}\n`);
      for (const line of readableSteps(r.choices.decisions)) process.stdout.write(`  ${line}\n`);
      if (o.trace !== undefined) await writeOutputFile('--trace', o.trace, JSON.stringify(toChromeTrace(r.system.sim.log.records, { tool: 'kmodlab explore', scenario: sc.name })));
      if (o.dmesg !== undefined) await writeOutputFile('--dmesg', o.dmesg, r.system.kernel.dmesg().join('\n') + '\n');
    }
    return;
  }

  const budgetMs = o.budget !== undefined ? Number(/^(\d+)s?$/.exec(o.budget)?.[1] ?? NaN) * 1000 : Infinity;
  if (Number.isNaN(budgetMs)) throw new InputError(`--budget ${o.budget}: want seconds, e.g. 60s`);
  // --runs N | --budget 60s: a budget given alone is the only limit (not --runs' default 1000)
  const runsGiven = cmd?.getOptionValueSource('runs') === 'cli';
  const runs = o.budget !== undefined && !runsGiven ? Infinity : intOption('--runs', o.runs, 1);
  const key = (kernel: string): StoreKey => ({ scenario: sc, kernel, strategy, depth, seed: seed0, points });
  // every stored file is read (and refused if foreign) before any work
  const stored = new Map<string, Exploration | undefined>();
  if (o.out !== undefined) for (const kernel of kernels) stored.set(kernel, loadStored('--out', o.out, key(kernel)));
  let interrupted = false;
  const onInt = (): void => {
    interrupted = true;
  };
  process.on('SIGINT', onInt);
  const done: Exploration[] = [];
  try {
    for (const kernel of kernels) {
      const t0 = Date.now();
      let e = stored.get(kernel);
      let lastProgress = t0;
      // the first batch is saved at once, later ones at most every SAVE_EVERY_MS
      let lastSave = 0;
      const stop = (): boolean => interrupted || Date.now() - t0 > budgetMs;
      // batches, so Ctrl-C (a signal handler) gets a chance to run
      for (let n = Math.min(runs, (e?.runs ?? 0) + 100); ; n = Math.min(runs, n + 100)) {
        e = explore(sc, machine, { kernel, strategy, depth, points, seed: seed0, runs: n, stop }, e);
        const walked = e.strategy === 'exhaustive' && e.cursor === null;
        if (Date.now() - lastProgress > 2000) {
          lastProgress = Date.now();
          process.stderr.write(`kmodlab explore: ${kernel}: ${e.runs}${Number.isFinite(runs) ? `/${runs}` : ''} schedules, ${e.outcomes.length} outcomes\n`);
        }
        if (o.out !== undefined && Date.now() - lastSave > SAVE_EVERY_MS) {
          lastSave = Date.now();
          await saveStored('--out', o.out, key(kernel), e);
        }
        if (e.runs >= runs || walked || stop()) break;
        await new Promise((r) => setImmediate(r));
      }
      // one outcome at a time, so Ctrl-C is seen between them; each shrunk one is saved
      if (o.shrink)
        for (const r of e.outcomes) {
          if (interrupted) break;
          if (!shrinkOutcome(sc, machine, e, r)) continue;
          if (o.out !== undefined) await saveStored('--out', o.out, key(kernel), e);
          await new Promise((res) => setImmediate(res));
        }
      if (o.out !== undefined) await saveStored('--out', o.out, key(kernel), e);
      done.push(e);
      if (interrupted) break;
    }
  } finally {
    process.off('SIGINT', onInt);
  }
  if (o.format === 'json') process.stdout.write(JSON.stringify(done.map(explorationJson), null, 2) + '\n');
  else {
    process.stdout.write(done.map((e) => formatExploration(e, name)).join('\n'));
    if (done.length > 1) process.stdout.write('\n' + formatSideBySide(done));
  }
  if (interrupted) {
    process.stderr.write(`kmodlab explore: interrupted; the outcomes above are those found so far${o.out !== undefined ? ` (kept in ${o.out}; the same command resumes)` : ''}\n`);
    process.exitCode = EXIT_INTERRUPTED;
  }
}
