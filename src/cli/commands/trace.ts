/**
 * DOC: `kmodlab trace` — the timeline of one simulated coldplug boot as Chrome trace-event JSON
 * (open it in Perfetto or chrome://tracing) and, with --svg, as a picture.
 */
import type { Command } from 'commander';
import writeFileAtomic from 'write-file-atomic';
import { InputError } from '../errors.js';
import { parseSeed } from '../../experiments/cpulist.js';
import { runStorm, type StormPoint } from '../../experiments/storm.js';
import { loadMachine } from '../../userspace/machines/load.js';
import { renderTraceSvg, toChromeTrace } from '../../report/trace.js';

interface TraceOpts {
  machine: string;
  cpus?: string;
  kernel: string;
  seed: string;
  out: string;
  svg?: string;
  snapshot?: string;
  modules?: string;
}

export function register(program: Command): void {
  program
    .command('trace')
    .description('the timeline of one simulated boot as Chrome trace-event JSON (Perfetto), and a picture')
    .option('--machine <profile>', 'machine profile', 'kvm-guest')
    .option('--cpus <n>', "CPU count (default: the profile's)")
    .option('--kernel <preset>', 'kernel preset, or a preset JSON file', 'v6.4')
    .option('--seed <n>', 'seed', '1')
    .option('--snapshot <name>', 'a shipped module-set snapshot')
    .option('--modules <dir>', 'a real /lib/modules/<release> tree')
    .requiredOption('--out <file.json>', 'where to write the trace')
    .option('--svg <file>', 'also draw memory use and loads in flight over time')
    .action(async (o: TraceOpts) => {
      const profile = loadMachine(o.machine);
      const cpus = o.cpus === undefined ? profile.cpus : Number(o.cpus);
      if (!Number.isSafeInteger(cpus) || cpus < 1) throw new InputError(`--cpus ${o.cpus}: want an integer >= 1`);
      const isFile = o.kernel.endsWith('.json');
      const point: StormPoint = {
        machine: o.machine,
        cpus,
        kernel: o.kernel,
        seed: parseSeed(o.seed),
        ...(isFile ? { presetFile: o.kernel } : {}),
        ...(o.snapshot !== undefined ? { snapshot: o.snapshot } : {}),
        ...(o.modules !== undefined ? { modulesDir: o.modules } : {}),
      };
      const run = await runStorm(point, { log: true });
      const records = run.system.sim.log.records;
      const meta = { machine: `${profile.name}, ${cpus} CPUs, ${run.preset.name}, seed ${point.seed}`, tool: 'kmodlab trace' };
      const trace = toChromeTrace(records, meta);
      await writeFileAtomic(o.out, JSON.stringify(trace));
      process.stderr.write(`kmodlab: wrote ${o.out} (${trace.traceEvents.length} events, ${records.length} log records)\n`);
      if (o.svg !== undefined) {
        await writeFileAtomic(o.svg, await renderTraceSvg(records, meta.machine));
        process.stderr.write(`kmodlab: wrote ${o.svg}\n`);
      }
    });
}
