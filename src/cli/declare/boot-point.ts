/**
 * DOC: the options that name one simulated boot — machine, CPUs, kernel, seed, module set, kmod
 * version, policy — as `stats` and `trace` declare them; ../commands/boot-point.ts turns them
 * into the run.
 */
import type { Command } from 'commander';

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
