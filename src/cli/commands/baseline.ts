/**
 * DOC: `kmodlab baseline diff OLD NEW` — the one-line regression: two `--results` trees (or a
 * release or run directory of one) read as one line per change (src/experiments/baseline-diff.ts).
 * Exit 1 when something regressed, 0 otherwise (improvements print, exit 0), 2 on bad input.
 */
import type { Command } from 'commander';
import { stdout } from '../stdio.js';
import { baselineDiff, formatLine } from '../../experiments/baseline-diff.js';

export function register(program: Command): void {
  const baseline = program.command('baseline').description('results kept with --results: compare two of them');
  baseline
    .command('diff')
    .description('one line per change between OLD and NEW (results dirs, release dirs or run dirs); exit 1 on a regression')
    .argument('<old>', 'the baseline: a --results DIR, DIR/<release> or DIR/<release>/<run id>')
    .argument('<new>', 'the run to check, the same way')
    .action((oldPath: string, newPath: string) => {
      const d = baselineDiff(oldPath, newPath);
      stdout(d.lines.map((l) => formatLine(l) + '\n').join(''));
      process.exitCode = d.exitCode;
    });
}
