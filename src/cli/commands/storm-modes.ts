/**
 * DOC: which `kmodlab storm` options each kind of storm reads — and the one line for an option
 * given to a storm that would ignore it.
 *
 * `storm` is four commands behind one option list: the simulated coldplug sweep, the real
 * coldplug boot (`--target qemu:NAME`), and the duplicate-load storm (`--parallel`) on the
 * simulator or in a real guest. Each reads a part of the options; an option given to a storm that
 * does not read it used to be dropped without a word (`--cpu-model` on the simulator, `--svg` or
 * `--policy` with `--parallel`, `--module` on a real coldplug boot), so the user believed it had
 * an effect. Every option of the command is in this table with the storms that read it, and any
 * other given on the command line is refused before any work, naming the option. A new option
 * must be added here (test/cli/storm-modes.test.ts checks that every declared option is).
 */
import type { Command } from 'commander';
import { InputError } from '../../errors.js';

export type StormMode = 'coldplug-sim' | 'coldplug-qemu' | 'parallel-sim' | 'parallel-qemu';

const COLDPLUG: readonly StormMode[] = ['coldplug-sim', 'coldplug-qemu'];
const PARALLEL: readonly StormMode[] = ['parallel-sim', 'parallel-qemu'];
const QEMU: readonly StormMode[] = ['coldplug-qemu', 'parallel-qemu'];
const ALL: readonly StormMode[] = [...COLDPLUG, ...PARALLEL];

/** each option of `kmodlab storm` (commander's attribute name) and the storms that read it */
export const STORM_OPTION_MODES: Readonly<Record<string, readonly StormMode[]>> = {
  machine: ['coldplug-sim', 'parallel-sim'],
  cpus: ALL,
  kernel: ['coldplug-sim', 'parallel-sim'],
  seed: ['coldplug-sim', 'coldplug-qemu', 'parallel-sim'],
  seeds: COLDPLUG,
  // with --target qemu:NAME, the --compare side's module set and kmod (refused without --compare)
  modules: ['coldplug-sim', 'parallel-sim', 'parallel-qemu'],
  snapshot: ['coldplug-sim', 'parallel-sim', 'parallel-qemu'],
  kmodVersion: ['coldplug-sim', 'parallel-sim', 'parallel-qemu'],
  moduleArea: ['coldplug-sim'],
  policy: ['coldplug-sim'],
  // --parallel prints text or json (refused otherwise, in dupstorm.ts)
  format: ALL,
  categories: COLDPLUG,
  chart: COLDPLUG,
  out: COLDPLUG,
  shard: COLDPLUG,
  svg: COLDPLUG,
  html: COLDPLUG,
  threads: ['coldplug-sim'],
  inline: ['coldplug-sim'],
  // "no progress bar" holds where there is none
  progress: ALL,
  target: ALL,
  parallel: PARALLEL,
  module: PARALLEL,
  path: PARALLEL,
  state: PARALLEL,
  compare: QEMU,
  mem: QEMU,
  timeout: QEMU,
  accel: QEMU,
  logDir: QEMU,
  cpuModel: ['coldplug-qemu'],
  machineType: ['coldplug-qemu'],
  settleTimeout: ['coldplug-qemu'],
  reuseLogs: ['coldplug-qemu'],
  results: ALL,
  runTimeout: ['coldplug-sim'],
};

/** the kind of storm the options ask for */
export function stormMode(o: { parallel?: string; target?: string }): StormMode {
  const qemu = o.target?.startsWith('qemu:') === true;
  if (o.parallel !== undefined) return qemu ? 'parallel-qemu' : 'parallel-sim';
  return qemu ? 'coldplug-qemu' : 'coldplug-sim';
}

function flagOf(key: string): string {
  return key === 'progress' ? '--no-progress' : `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** the line for option `key` given to a storm of `mode`, which does not read it */
function refusal(key: string, mode: StormMode, target: string | undefined): string {
  const flag = flagOf(key);
  const readBy = STORM_OPTION_MODES[key] ?? [];
  // the lines these refusals had before the table (kept word for word)
  if (key === 'runTimeout') return '--run-timeout: only on the simulated coldplug storm (without --parallel or a qemu target)';
  if (mode === 'coldplug-sim' && readBy.some((m) => m === 'parallel-sim' || m === 'parallel-qemu'))
    return `${flag}: only with --parallel (the duplicate-load storm) or --target qemu:NAME`;
  if (mode === 'coldplug-qemu' && readBy.includes('coldplug-sim'))
    return `${flag}: not with --target ${target} (the real coldplug boots the kernel's own module tree on the guest it captures)`;
  if (mode === 'parallel-sim' && key === 'compare') return '--compare: only with --target qemu:NAME (it compares a real kernel with its sim model)';
  if (mode === 'parallel-sim' && readBy.includes('parallel-qemu')) return `${flag}: only with --target qemu:NAME`;
  if (key === 'chart') return '--chart: --parallel storms draw no chart (only the coldplug storm)';
  // the rest
  if (mode === 'coldplug-sim') return `${flag}: only with --target qemu:NAME (the real coldplug boot)`;
  if (mode === 'coldplug-qemu') return `${flag}: only with --parallel (the duplicate-load storm)`;
  if (readBy.includes('coldplug-qemu') && !readBy.includes('coldplug-sim')) return `${flag}: only with --target qemu:NAME without --parallel (the real coldplug boot)`;
  if (readBy.some((m) => m === 'coldplug-sim' || m === 'coldplug-qemu') && !readBy.includes(mode === 'parallel-sim' ? 'parallel-qemu' : 'parallel-sim'))
    return `${flag}: only on the coldplug storm (without --parallel)`;
  return `${flag}: not with --parallel --target ${target} (a real guest's storm does not read it)`;
}

/**
 * Refuse, before any work, every option given on the command line that the storm asked for does
 * not read (one line naming it, exit 2). `--kernel` with `--target sim:PRESET` is refused too: the
 * target names the preset.
 */
export function refuseUnreadStormOptions(o: { parallel?: string; target?: string }, cmd: Pick<Command, 'getOptionValueSource'>): void {
  const mode = stormMode(o);
  for (const [key, modes] of Object.entries(STORM_OPTION_MODES)) {
    if (cmd.getOptionValueSource(key) !== 'cli') continue;
    if (!modes.includes(mode)) throw new InputError(refusal(key, mode, o.target));
  }
  if (mode === 'parallel-sim' && o.target?.startsWith('sim:') === true && cmd.getOptionValueSource('kernel') === 'cli')
    throw new InputError(`--kernel: not with --target ${o.target} (the target names the preset)`);
}
