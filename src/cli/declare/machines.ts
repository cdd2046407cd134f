/**
 * DOC: `kmodlab machines` as the command line shows it; listing, showing and capturing are done
 * by ../commands/machines.ts, imported when the command runs.
 */
import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { lazy } from './lazy.js';

function parseCpus(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 8192) throw new InputError(`--cpus ${v}: expected an integer from 1 to 8192`);
  return n;
}

const load = () => import('../commands/machines.js');

export function register(program: Command): void {
  const machines = program
    .command('machines')
    .description('list, show or capture machine profiles (CPUs, devices, cpufreq, timings)')
    .action(lazy(load, 'listAction'));

  machines.command('list').description('name, CPU count and description of every shipped profile').action(lazy(load, 'listAction'));

  machines
    .command('show')
    .description('a profile as JSON, validated, with defaults applied')
    .argument('<name>', 'a profile name (see `machines list`) or a JSON file')
    .option('--cpus <n>', 'apply this CPU count (and the timing overrides that go with it)', parseCpus)
    .action(lazy(load, 'showAction'));

  machines
    .command('capture')
    .description("record this Linux host (modaliases under /sys/devices, CPUs, cpufreq driver, RAM, release) as a profile")
    .option('--out <file>', 'write the profile here (atomically) instead of stdout')
    .option('--name <name>', 'profile name (default: the host name)')
    .action(lazy(load, 'captureAction'));
}
