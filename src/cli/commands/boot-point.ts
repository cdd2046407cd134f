/**
 * DOC: the options that name one simulated boot — machine, CPUs, kernel, seed, module set, kmod
 * version, policy — shared by the commands that look at a single run (`stats`, `trace`): the run
 * they name. The options themselves are declared in ../declare/boot-point.ts.
 */
import { InputError } from '../../errors.js';
import { parseSeed } from '../../experiments/cpulist.js';
import type { StormPoint } from '../../experiments/storm.js';
import { loadPolicyPlugin } from '../../io/policy.js';
import { loadPresetFile } from '../../io/presets.js';
import { loadMachine } from '../../userspace/machines/load.js';
import { intOption, secondsOption } from '../options.js';

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
    ...(o.runTimeout !== undefined ? { runTimeoutMs: secondsOption('--run-timeout', o.runTimeout, 1) * 1000 } : {}),
  };
  // the run is named as storm names it (a preset file by its preset's name, PRESET+POLICY with a
  // plug-in), so the same run gives the same line in stats, trace and a storm sweep
  if (o.kernel.endsWith('.json')) {
    point.preset = loadPresetFile(o.kernel);
    point.kernel = point.preset.name;
  }
  if (o.policy !== undefined) {
    const plugin = await loadPolicyPlugin(o.policy);
    point.policyFile = plugin.module;
    point.policyShown = o.policy;
    point.presetName = point.kernel;
    point.kernel = `${point.kernel}+${plugin.policy.name}`;
  }
  return { point, machineName: profile.name };
}
