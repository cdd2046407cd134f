/**
 * DOC: `kmodlab selftest` as the command line shows it (kmod.sh's arguments, kmodlab's options,
 * `kmodlab help selftest`); the run is ../commands/selftest.ts, imported when the command runs.
 */
import type { Command } from 'commander';
import { lazy } from './lazy.js';

export function register(program: Command): void {
  program
    .command('selftest')
    .description('run the kmod.sh selftest port against a target (sim, qemu, sysfs); kmod.sh arguments pass through')
    .argument('[kmodsh...]', "kmod.sh's arguments: all | -t NNNN | -s NNNN | -c NNNN K | -w [NNNN] | -l | -h")
    .option('--target <t>', 'sim (simulated kernel), sysfs (this host, as root), or qemu:NAME', 'sim')
    .option('--kernel <preset>', 'sim: kernel preset (default newest; `kmodlab kernels` lists them)')
    .option('--machine <profile>', 'sim: machine profile (default qemu-tcg, the calibration guest)')
    .option('--cpus <n>', "CPU count (sim: default the profile's; qemu: virtual CPUs, default 2)")
    .option('--mem <MiB>', 'qemu: guest memory (default 2048)')
    .option('--timeout <s>', 'deadline of the whole run in seconds (default none; exit 124 when hit, open KTAP tests end # TIMEOUT)')
    .option('--accel <a>', 'qemu: tcg (default), kvm, or auto (KVM only if a probe boot works)')
    .option('--log-dir <dir>', 'qemu: keep console.log, dmesg.log, qemu.log, session.json and results.json here')
    .option('--compare', 'qemu: also run the plan on the matching sim preset (qemu-tcg profile) and print both side by side')
    .option('--seed <n>', 'sim: random seed (default 1)')
    .option('--test-modules <build>', 'sim: test_module/test_kmod built out-of-tree (default: unsigned, taint OE) or in-tree')
    .option('--snapshot <name>', 'sim: module-set snapshot (debian-6.1, debian-6.12, debian-6.1-dbg, debian-6.12-dbg) or a snapshot file (default the profile\'s)')
    .option('--kmod-version <n>', "sim: userspace kmod version (default the profile's; ≤ 19 skips like kmod.sh)")
    .option('--kmod-sh <era>', "which kmod.sh: v4.13, v5.7 or v5.8 (default: the sim preset's own; v5.8 on real targets)")
    .option('--ktap', 'KTAP version 1 output instead of kmod.sh lines')
    .option('--keep-going', 'after a failed test, continue with the next one (exit code still 1)')
    .option('--watch-rounds <n>', 'stop -w after N rounds')
    .option('--dmesg <file>', 'write the kernel log of the run to FILE')
    .option('--restore', "sysfs: put back /proc/sys/kernel/modprobe as an earlier run (killed) found it, and say so; run nothing")
    .option('--results <dir>', 'sim, qemu: keep the run in DIR/<release>/<run id>/ (KTAP, kmod.sh text, dmesg, record, command)')
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .helpOption(false)
    .action(lazy(() => import('../commands/selftest.js'), 'selftestAction'));
}
