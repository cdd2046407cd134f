/**
 * DOC: `kmodlab kernel` (prepare, list, boot, storm) as the command line shows it; the qemu target
 * is ../commands/kernel.ts and src/targets/qemu/, imported when a subcommand runs.
 */
import type { Command } from 'commander';
import { DUPSTORM_MODES, DUPSTORM_MODULES } from '../../results/dupstorm.js';
import { KERNELS } from '../../targets/qemu/kernels.js';
import { lazy } from './lazy.js';

const load = () => import('../commands/kernel.js');

function vmOptions(c: Command): Command {
  return c
    .option('--cache <dir>', 'cache directory (default $KMODLAB_CACHE or ~/.cache/kmodlab)')
    .option('--cpus <n>', 'virtual CPUs', '2')
    .option('--mem <MiB>', 'guest memory', '2048')
    .option('--timeout <s>', 'deadline of the whole session (0 = none)', '0')
    .option('--accel <a>', 'tcg, kvm, or auto (KVM only if a probe boot works)', 'tcg')
    .option('--log-dir <dir>', 'keep console.log, dmesg.log, qemu.log and session.json here');
}

export function registerKernelCommand(program: Command): void {
  const kernel = program.command('kernel').description('prepare real kernels for the qemu target');

  kernel
    .command('prepare')
    .description('download a Debian kernel (or take your build tree), build test_kmod and the test modules, assemble an initramfs')
    .argument('[names...]', `kernels: ${KERNELS.map((k) => k.name).join(', ')}`)
    .option('--cache <dir>', 'cache directory (default $KMODLAB_CACHE or ~/.cache/kmodlab)')
    .option('--refresh', 're-read the apt lists and rebuild everything')
    .option('--from-build <dir>', 'a kernel build tree (after make and make modules) instead of a Debian kernel')
    .option('--name <name>', "--from-build: the prepared kernel's name (default: the tree's kernel release)")
    .option('--userspace <suite>', "--from-build: the Debian suite of the guest's kmod and libc (default: the host's)")
    .option('--preset <preset>', "--from-build: the sim preset that models it (default: by the tree's version)")
    .option('--image <file>', '--from-build: the kernel image (default DIR/arch/x86/boot/bzImage)')
    .option('--modules <dir>', '--from-build: an installed module tree (lib/modules/RELEASE) instead of make modules_install')
    .action(lazy(load, 'prepareAction'));

  kernel
    .command('list')
    .description('known kernels and whether each is prepared, then the kernels prepared from build trees')
    .option('--cache <dir>', 'cache directory')
    .action(lazy(load, 'listAction'));

  vmOptions(kernel.command('boot').description('boot a prepared kernel and check the agent and test_kmod').argument('<name>')).action(
    lazy(load, 'bootAction'),
  );

  vmOptions(
    kernel
      .command('storm')
      .description('N concurrent loads of one module in the guest; outcome counts and peak VmallocUsed')
      .argument('<name>')
      .requiredOption('--parallel <list>', 'comma-separated N values, e.g. 1,2,4')
      .option('--modules <list>', DUPSTORM_MODULES.join(','), DUPSTORM_MODULES.join(','))
      .option('--modes <list>', DUPSTORM_MODES.join(','), DUPSTORM_MODES.join(','))
      .option('--states <list>', 'cold (default), live: the module not loaded / LIVE before each storm')
      .option('--json <file>', 'write the result as JSON'),
  ).action(lazy(load, 'stormAction'));
}
