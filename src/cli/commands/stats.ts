/**
 * DOC: `kmodlab stats` — the /sys/kernel/debug/modules/stats text of one simulated coldplug
 * boot, byte for byte on stdout; which boot it is goes to stderr, outside the file format.
 */
import { stdout } from '../stdio.js';
import { runStorm } from '../../experiments/storm.js';
import { bootPoint, type BootPointOpts } from './boot-point.js';

/** `kmodlab stats` (declared in ../declare/stats.ts) */
export async function statsAction(o: BootPointOpts): Promise<void> {
  const { point, machineName } = await bootPoint(o);
  const run = await runStorm(point);
  const real = run.preset.flags.moduleStats ? 'CONFIG_MODULE_STATS' : 'no MODULE_STATS in this release: what it would have said';
  process.stderr.write(`# ${machineName}, ${point.cpus} CPUs, ${run.preset.name}, seed ${point.seed} (${real})\n`);
  stdout(run.system.kernel.statsText());
}
