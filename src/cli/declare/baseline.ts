/**
 * DOC: `kmodlab baseline` as the command line shows it (arguments, help); the work is in
 * ../commands/baseline.ts, imported when the command runs.
 */
import type { Command } from 'commander';
import { lazy } from './lazy.js';

const action = lazy(() => import('../commands/baseline.js'), 'diffAction');

export function register(program: Command): void {
  const baseline = program.command('baseline').description('results kept with --results: compare two of them');
  baseline
    .command('diff')
    .description('one line per change between OLD and NEW (results dirs, release dirs or run dirs); exit 1 on a regression')
    .argument('<old>', 'the baseline: a --results DIR, DIR/<release> or DIR/<release>/<run id>')
    .argument('<new>', 'the run to check, the same way')
    .action(action);
}
