/**
 * DOC: `kmodlab stats` as the command line shows it; the work is in ../commands/stats.ts,
 * imported when the command runs.
 */
import type { Command } from 'commander';
import { bootPointOptions } from './boot-point.js';
import { lazy } from './lazy.js';

export function register(program: Command): void {
  bootPointOptions(program.command('stats').description('the /sys/kernel/debug/modules/stats text of one simulated boot'), {
    machine: 'kvm-guest',
    kernel: 'v6.4',
  }).action(lazy(() => import('../commands/stats.js'), 'statsAction'));
}
