/**
 * DOC: `kmodlab trace` as the command line shows it; the work is in ../commands/trace.ts,
 * imported when the command runs.
 */
import type { Command } from 'commander';
import { bootPointOptions } from './boot-point.js';
import { lazy } from './lazy.js';

export function register(program: Command): void {
  bootPointOptions(
    program.command('trace').description('the timeline of one simulated boot as Chrome trace-event JSON (Perfetto), and a picture'),
    { machine: 'kvm-guest', kernel: 'v6.4' },
  )
    .requiredOption('--out <file.json>', 'where to write the trace')
    .option('--svg <file>', 'also draw memory use and loads in flight over time')
    .action(lazy(() => import('../commands/trace.js'), 'traceAction'));
}
