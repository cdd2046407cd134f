/**
 * DOC: `kmodlab machines` — list, show and capture machine profiles.
 *
 *   kmodlab machines [list]              name, CPUs, description of every shipped profile
 *   kmodlab machines show NAME|FILE      the validated profile as JSON (--cpus N applies a CPU count);
 *                                        the cpu modalias it implies goes to stderr
 *   kmodlab machines capture [--out F]   record this Linux host as a profile (stdout, or F atomically)
 */
import type { Command } from 'commander';
import { stdout } from '../stdio.js';
import { checkOutputFile } from '../../io/output.js';
import { InputError } from '../../errors.js';
import { captureHost, writeProfile } from '../../userspace/machines/capture.js';
import { listMachineNames, loadMachine } from '../../userspace/machines/load.js';
import { cpuModalias } from '../../userspace/machines/modalias.js';

function parseCpus(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 8192) throw new InputError(`--cpus ${v}: expected an integer from 1 to 8192`);
  return n;
}

function list(): void {
  const rows = listMachineNames().map((n) => {
    const m = loadMachine(n);
    return [m.name, String(m.cpus), m.description];
  });
  const w0 = Math.max(4, ...rows.map((r) => r[0]!.length));
  const w1 = Math.max(4, ...rows.map((r) => r[1]!.length));
  stdout(`${'NAME'.padEnd(w0)}  ${'CPUS'.padStart(w1)}  DESCRIPTION\n`);
  for (const [n, c, d] of rows) stdout(`${n!.padEnd(w0)}  ${c!.padStart(w1)}  ${d}\n`);
}

export function register(program: Command): void {
  const machines = program
    .command('machines')
    .description('list, show or capture machine profiles (CPUs, devices, cpufreq, timings)')
    .action(() => list());

  machines.command('list').description('name, CPU count and description of every shipped profile').action(() => list());

  machines
    .command('show')
    .description('a profile as JSON, validated, with defaults applied')
    .argument('<name>', 'a profile name (see `machines list`) or a JSON file')
    .option('--cpus <n>', 'apply this CPU count (and the timing overrides that go with it)', parseCpus)
    .action((name: string, opts: { cpus?: number }) => {
      const m = loadMachine(name, opts.cpus !== undefined ? { cpus: opts.cpus } : {});
      stdout(`${JSON.stringify(m, null, 2)}\n`);
      // the derived cpu modalias on stderr, so stdout stays a profile that loads back
      process.stderr.write(`cpu modalias: ${cpuModalias(m.cpu)}\n`);
    });

  machines
    .command('capture')
    .description("record this Linux host (modaliases under /sys/devices, CPUs, cpufreq driver, RAM, release) as a profile")
    .option('--out <file>', 'write the profile here (atomically) instead of stdout')
    .option('--name <name>', 'profile name (default: the host name)')
    .action(async (opts: { out?: string; name?: string }) => {
      if (opts.out) checkOutputFile('--out', opts.out);
      const profile = captureHost(opts.name ? { name: opts.name } : {});
      if (opts.out) {
        await writeProfile(profile, opts.out);
        process.stderr.write(`${opts.out}: ${profile.name}, ${profile.cpus} CPUs, ${profile.devices.length} devices, cpufreq ${profile.cpufreq.driver}\n`);
      } else {
        stdout(`${JSON.stringify(profile, null, 2)}\n`);
      }
    });
}
