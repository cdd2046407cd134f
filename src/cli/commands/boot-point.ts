/**
 * DOC: the options that name one simulated boot — machine, CPUs, kernel, seed, module set, kmod
 * version, policy — shared by the commands that look at a single run (`stats`, `trace`).
 */
import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { parseSeed } from '../../experiments/cpulist.js';
import type { StormPoint } from '../../experiments/storm.js';
import { loadPolicyPlugin } from '../../io/policy.js';
import { loadPresetFile } from '../../io/presets.js';
import { loadMachine } from '../../userspace/machines/load.js';
import { intOption } from '../options.js';

export interface BootPointOpts {
  machine: string;
  cpus?: string;
  kernel: string;
  seed: string;
  modules?: string;
  snapshot?: string;
  kmodVersion?: string;
  policy?: string;
  runTimeout?: string;
}

export function bootPointOptions(cmd: Command, defaults: { machine: string; kernel: string }): Command {
  return cmd
    .option('--machine <profile>', 'machine profile (name in data/machines or a JSON file)', defaults.machine)
    .option('--cpus <n>', "CPU count (default: the profile's)")
    .option('--kernel <preset>', 'kernel preset, or a preset JSON file', defaults.kernel)
    .option('--seed <n>', 'seed', '1')
    .option('--modules <dir>', 'a real /lib/modules/<release> tree')
    .option('--snapshot <name>', 'a shipped module-set snapshot (debian-6.1, debian-6.12, debian-6.1-dbg, debian-6.12-dbg) or a snapshot file')
    .option('--kmod-version <n>', "userspace kmod version (default: the profile's)")
    .option('--policy <file>', 'a same-name policy plug-in (.js/.ts)')
    .option('--run-timeout <s>', 'wall-clock seconds the run may take before it counts as hung (default 600)');
}

/** the run the options name (its preset and policy files read), and its machine profile's name */
export async function bootPoint(o: BootPointOpts): Promise<{ point: StormPoint; machineName: string }> {
  const profile = loadMachine(o.machine);
  if (o.kernel.includes(',')) throw new InputError(`--kernel ${o.kernel}: one preset here`);
  const point: StormPoint = {
    machine: o.machine,
    cpus: o.cpus !== undefined ? intOption('--cpus', o.cpus, 1) : profile.cpus,
    kernel: o.kernel,
    seed: parseSeed(o.seed),
    ...(o.modules !== undefined ? { modulesDir: o.modules } : {}),
    ...(o.snapshot !== undefined ? { snapshot: o.snapshot } : {}),
    ...(o.kmodVersion !== undefined ? { kmodVersion: intOption('--kmod-version', o.kmodVersion, 1) } : {}),
    ...(o.runTimeout !== undefined ? { runTimeoutMs: intOption('--run-timeout', o.runTimeout, 1) * 1000 } : {}),
  };
  if (o.kernel.endsWith('.json')) point.preset = loadPresetFile(o.kernel);
  if (o.policy !== undefined) point.policyFile = (await loadPolicyPlugin(o.policy)).module;
  return { point, machineName: profile.name };
}
