/**
 * DOC: `kmodlab storm` and `kmodlab storm merge` as the command line shows them (options,
 * defaults, help); the sweeps, real guests and reports are ../commands/storm.ts, imported when
 * the command runs.
 */
import type { Command } from 'commander';
import { lazy } from './lazy.js';

/** the main job's default sweep: the upstream graph's shape in a few seconds */
export const DEFAULT_STORM = { machine: 'kvm-guest', cpus: '1,8,32,64,128,255', kernel: 'v6.1-stable,v6.4,newest' };

const load = () => import('../commands/storm.js');

/** the report's options, the same on `storm` and `storm merge` */
function reportOptions(cmd: Command): Command {
  return cmd
    .option('--format <fmt>', 'text|table|md|chart|csv|json|jsonl|svg|html', 'text')
    .option('--categories <mode>', 'waste chart: total|stacked|grouped', 'total')
    .option('--chart <style>', "the terminal chart (--format text|chart): lines (default), or dumb (gnuplot's dumb terminal look, ASCII, to paste in a mail)");
}

export function register(program: Command): void {
  const storm = program
    .command('storm')
    .description('boot-time coldplug storm: duplicate-load waste vs CPU count and kernel')
    // options after `merge` are merge's (same names as storm's own, which would otherwise take them)
    .enablePositionalOptions()
    .option('--machine <profile>', 'machine profile (name in data/machines or a JSON file)', DEFAULT_STORM.machine)
    .option('--cpus <list>', 'CPU counts: 1,8,64-512:64', DEFAULT_STORM.cpus)
    .option('--kernel <list>', 'kernel presets (or preset JSON files), comma-separated', DEFAULT_STORM.kernel)
    .option('--seed <n>', 'first seed', '1')
    .option('--seeds <k>', 'seeds per point (median and spread are reported)', '1')
    .option('--modules <dir>', 'a real /lib/modules/<release> tree instead of the profile\'s snapshot')
    .option('--snapshot <name>', 'a shipped module-set snapshot (debian-6.1, debian-6.12, debian-6.1-dbg, debian-6.12-dbg) or a snapshot file')
    .option('--kmod-version <n>', "userspace kmod version (default: the profile's)")
    .option('--module-area <size>', 'module area size (bytes or K/M/G; default 1008M)')
    .option('--policy <file>', 'a same-name policy plug-in (.js/.ts) replacing the duplicate handling');
  reportOptions(storm)
    .option('--out <dir>', 'store one result file per run (atomic); re-running resumes')
    .option('--shard <i/N>', 'run only slice i of N of the sweep')
    .option('--svg <file>', 'also write the charts as SVG')
    .option('--html <file>', 'also write a self-contained HTML report')
    .option('--threads <n>', 'worker threads (default: available CPUs)')
    .option('--inline', 'run in this thread, one run at a time')
    .option('--no-progress', 'no progress bar')
    .option('--target <t>', 'sim (default), or qemu:NAME: a real kernel in a VM (a real udev coldplug; with --parallel, N loads of one module)')
    .option('--parallel <list>', 'duplicate-load storm: N concurrent loads of one module, for each N (e.g. 1,2,4)')
    .option('--module <list>', '--parallel: xfs, kml_slow, kml_fail (default all)')
    .option('--path <list>', '--parallel: finit, finit-compressed, init, modprobe (default all)')
    .option('--state <list>', '--parallel: the module before each storm: cold (not loaded; default), live (loaded and LIVE; xfs and kml_slow)')
    .option('--compare', 'qemu:NAME: also run the sim model of that kernel, side by side')
    .option('--mem <MiB>', 'qemu: guest memory')
    .option('--timeout <s>', 'qemu: session deadline (s)')
    .option('--accel <a>', 'qemu: tcg, kvm or auto')
    .option('--log-dir <dir>', 'qemu: keep the guest logs and storm.json here')
    .option('--cpu-model <model>', 'qemu coldplug: the guest\'s x86 CPU model (default Cascadelake-Server)')
    .option('--machine-type <type>', 'qemu coldplug: the QEMU machine type (default q35)')
    .option('--settle-timeout <s>', 'qemu coldplug: udevadm settle --timeout (default 600)')
    .option('--reuse-logs', 'qemu coldplug: rebuild runs whose --log-dir holds a finished trace from it, without booting')
    .option('--results <dir>', 'keep each run in DIR/<release>/<run id>/ (record, command; qemu: the guest logs)')
    .option('--run-timeout <s>', 'sim: wall-clock seconds one run may take before it counts as hung (default 600)')
    .action(lazy(load, 'stormCommandAction'));

  const merge = storm
    .command('merge')
    .description('join result directories (from --out, e.g. one per --shard) and report them')
    .argument('<dirs...>', 'result directories');
  reportOptions(merge)
    .option('--module-area <size>', 'module area size for the charts (default 1008M)')
    .option('--svg <file>', 'also write the charts as SVG')
    .option('--html <file>', 'also write a self-contained HTML report')
    .action(lazy(load, 'mergeAction'));
}
