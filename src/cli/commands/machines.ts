/**
 * DOC: `kmodlab machines` — list, show and capture machine profiles.
 *
 *   kmodlab machines [list]              name, CPUs, description of every shipped profile
 *   kmodlab machines show NAME|FILE      the validated profile as JSON (--cpus N applies a CPU count);
 *                                        the cpu modalias it implies goes to stderr
 *   kmodlab machines capture [--out F]   record this Linux host as a profile (stdout, or F atomically)
 *
 * The command line (options, help) is declared in ../declare/machines.ts.
 */
import { stdout } from '../stdio.js';
import { listMachineNames, loadMachine } from '../../userspace/machines/load.js';
import { cpuModalias } from '../../userspace/machines/modalias.js';

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

/** `kmodlab machines [list]` (declared in ../declare/machines.ts) */
export function listAction(): void {
  list();
}

/** `kmodlab machines show NAME|FILE [--cpus N]` */
export function showAction(name: string, opts: { cpus?: number }): void {
  const m = loadMachine(name, opts.cpus !== undefined ? { cpus: opts.cpus } : {});
  stdout(`${JSON.stringify(m, null, 2)}\n`);
  // the derived cpu modalias on stderr, so stdout stays a profile that loads back
  process.stderr.write(`cpu modalias: ${cpuModalias(m.cpu)}\n`);
}

/** `kmodlab machines capture [--out F] [--name N]` */
export async function captureAction(o: { out?: string; name?: string }): Promise<void> {
  // `--out -` is stdout, where the profile goes without --out
  const opts = o.out === '-' ? { ...(o.name !== undefined ? { name: o.name } : {}) } : o;
  // capturing needs the udev rules, write-file-atomic and zod: not loaded for list and show
  const [{ checkOutputFile }, { captureHost, writeProfile }] = await Promise.all([import('../../io/output.js'), import('../../userspace/machines/capture.js')]);
  if (opts.out) checkOutputFile('--out', opts.out);
  const profile = captureHost(opts.name ? { name: opts.name } : {});
  if (opts.out) {
    await writeProfile(profile, opts.out);
    process.stderr.write(`${opts.out}: ${profile.name}, ${profile.cpus} CPUs, ${profile.devices.length} devices, cpufreq ${profile.cpufreq.driver}\n`);
  } else {
    stdout(`${JSON.stringify(profile, null, 2)}\n`);
  }
}
