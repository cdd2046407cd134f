/**
 * DOC: `kmodlab stats` — the /sys/kernel/debug/modules/stats text of one simulated coldplug
 * boot, byte for byte on stdout; which boot it is goes to stderr, outside the file format.
 */
import type { Command } from 'commander';
import { stdout } from '../stdio.js';
import { runStorm } from '../../experiments/storm.js';
import { bootPoint, bootPointOptions, type BootPointOpts } from './boot-point.js';

export function register(program: Command): void {
  bootPointOptions(program.command('stats').description('the /sys/kernel/debug/modules/stats text of one simulated boot'), {
    machine: 'kvm-guest',
    kernel: 'v6.4',
  }).action(async (o: BootPointOpts) => {
    const { point, machineName } = await bootPoint(o);
    const run = await runStorm(point);
    const real = run.preset.flags.moduleStats ? 'CONFIG_MODULE_STATS' : 'no MODULE_STATS in this release: what it would have said';
    process.stderr.write(`# ${machineName}, ${point.cpus} CPUs, ${run.preset.name}, seed ${point.seed} (${real})\n`);
    stdout(run.system.kernel.statsText());
  });
}
