/**
 * DOC: `kmodlab explore SCENARIO` — many schedules of a small scenario on one or more presets;
 * every distinct outcome with count, share, 95% interval and a seed; `--replay SEED` runs one
 * schedule again (with its trace and dmesg). Wiring only: the explorer is experiments/explore/.
 */
import type { Command } from 'commander';
import { EXIT_INTERRUPTED, InputError } from '../../errors.js';
import { explore, formatExploration, type Exploration } from '../../experiments/explore/explore.js';
import { runSchedule } from '../../experiments/explore/run.js';
import type { Strategy } from '../../experiments/explore/choices.js';
import { checkOutputFile, writeOutputFile } from '../../io/output.js';
import { loadScenario } from '../../io/scenario.js';
import { toChromeTrace } from '../../report/trace.js';
import { loadMachine } from '../../userspace/machines/load.js';
import { intOption } from '../options.js';

interface Opts {
  kernel?: string;
  runs: string;
  budget?: string;
  strategy: string;
  depth: string;
  seed: string;
  format: string;
  replay?: string;
  trace?: string;
  dmesg?: string;
}

export function register(program: Command): void {
  program
    .command('explore')
    .description('many seeds or interleavings of a small scenario; every distinct outcome')
    .argument('<scenario>', 'a built-in scenario name or a JSON file')
    .option('--kernel <p,…>', 'presets, side by side (default: the scenario\'s)')
    .option('--runs <n>', 'schedules per preset', '1000')
    .option('--budget <s>', 'wall-clock budget per preset, e.g. 60s')
    .option('--strategy <s>', 'random | pct', 'random')
    .option('--depth <d>', 'pct depth', '3')
    .option('--seed <n>', 'first seed', '1')
    .option('--format <f>', 'text | json', 'text')
    .option('--replay <seed>', 'run one schedule again and print its outcome')
    .option('--trace <file.json>', 'with --replay: Chrome trace-event JSON of the schedule')
    .option('--dmesg <file>', 'with --replay: the kernel log of the schedule')
    .action(async (name: string, o: Opts) => {
      // options and output paths first: a bad --trace/--dmesg must not come after the work
      for (const [opt, file] of [['--trace', o.trace], ['--dmesg', o.dmesg]] as const) {
        if (file === undefined) continue;
        if (o.replay === undefined) throw new InputError(`${opt}: only with --replay SEED`);
        checkOutputFile(opt, file);
      }
      const sc = loadScenario(name);
      const machine = loadMachine(sc.machine.profile);
      if (o.strategy !== 'random' && o.strategy !== 'pct') throw new InputError(`--strategy ${o.strategy}: want random or pct`);
      if (o.format !== 'text' && o.format !== 'json') throw new InputError(`--format ${o.format}: want text or json`);
      const strategy = o.strategy as Strategy;
      const depth = intOption('--depth', o.depth, 1);
      const kernels = o.kernel !== undefined ? o.kernel.split(',') : sc.kernels;
      if (o.replay !== undefined) {
        const seed = intOption('--replay', o.replay, 0);
        for (const kernel of kernels) {
          const r = runSchedule(sc, machine, { kernel, strategy, seed, depth, log: o.trace !== undefined });
          process.stdout.write(`${sc.name} on ${kernel}, seed ${seed}: ${r.key}\n`);
          for (const d of r.choices.decisions) if (d.k !== 0 || d.kind !== 'tie')
            process.stdout.write(`  t=${(d.t / 1e6).toFixed(3)}ms ${d.kind === 'tie' ? `${d.names![d.k]} runs before ${d.names!.filter((_, i) => i !== d.k).join(', ')}` : `${d.kind} ${d.k} of ${d.n}`}\n`);
          if (o.trace !== undefined) await writeOutputFile('--trace', o.trace, JSON.stringify(toChromeTrace(r.system.sim.log.records, { tool: 'kmodlab explore', scenario: sc.name })));
          if (o.dmesg !== undefined) await writeOutputFile('--dmesg', o.dmesg, r.system.kernel.dmesg().join('\n') + '\n');
        }
        return;
      }
      const runs = intOption('--runs', o.runs, 1);
      const budgetMs = o.budget !== undefined ? Number(/^(\d+)s?$/.exec(o.budget)?.[1] ?? NaN) * 1000 : Infinity;
      if (Number.isNaN(budgetMs)) throw new InputError(`--budget ${o.budget}: want seconds, e.g. 60s`);
      let interrupted = false;
      const onInt = (): void => {
        interrupted = true;
      };
      process.on('SIGINT', onInt);
      const done: Exploration[] = [];
      try {
        for (const kernel of kernels) {
          const t0 = Date.now();
          let e: Exploration | undefined;
          let lastProgress = t0;
          // batches, so Ctrl-C (a signal handler) gets a chance to run
          for (let n = Math.min(runs, 100); ; n = Math.min(runs, n + 100)) {
            e = explore(sc, machine, { kernel, strategy, depth, seed: intOption('--seed', o.seed, 0), runs: n, stop: () => interrupted || Date.now() - t0 > budgetMs }, e);
            if (Date.now() - lastProgress > 2000) {
              lastProgress = Date.now();
              process.stderr.write(`kmodlab explore: ${kernel}: ${e.runs}/${runs} schedules, ${e.outcomes.length} outcomes\n`);
            }
            if (e.runs >= runs || interrupted || Date.now() - t0 > budgetMs) break;
            await new Promise((r) => setImmediate(r));
          }
          done.push(e);
          if (interrupted) break;
        }
      } finally {
        process.off('SIGINT', onInt);
      }
      if (o.format === 'json') process.stdout.write(JSON.stringify(done, null, 2) + '\n');
      else process.stdout.write(done.map(formatExploration).join('\n'));
      if (interrupted) {
        process.stderr.write('kmodlab explore: interrupted; the outcomes above are those found so far\n');
        process.exitCode = EXIT_INTERRUPTED;
      }
    });
}
