/**
 * DOC: `kmodlab kselftest` as the command line shows it; installing the collection is
 * ../commands/kselftest.ts, imported when the command runs.
 */
import type { Command } from 'commander';
import { lazy } from './lazy.js';

export function register(program: Command): void {
  const ks = program.command('kselftest').description("kmodlab as a kselftest collection for the kernel's run_kselftest.sh");
  ks.command('install')
    .description('write the kmod collection (kmod.sh, settings, config, the kselftest-list.txt entry) into a kselftest install directory')
    .argument('<dir>', 'the kselftest install directory (where run_kselftest.sh is)')
    .option('--target <t>', 'the default target of the installed kmod.sh: sim, sysfs or qemu:NAME', 'sim')
    .option('--kernel <preset>', 'sim: the default kernel preset')
    .option('--timeout <s>', `the runner's timeout in settings (default: sim 300 s, qemu 2700 s)`)
    .action(lazy(() => import('../commands/kselftest.js'), 'installAction'));
}
