/**
 * DOC: `kmodlab baseline diff OLD NEW` — the one-line regression: two `--results` trees (or a
 * release or run directory of one) read as one line per change (src/experiments/baseline-diff.ts).
 * Exit 1 when something regressed, 0 otherwise (improvements print, exit 0), 2 on bad input.
 */
import { stdout } from '../stdio.js';
import { baselineDiff, formatLine } from '../../experiments/baseline-diff.js';

/** `kmodlab baseline diff OLD NEW` (declared in ../declare/baseline.ts) */
export function diffAction(oldPath: string, newPath: string): void {
  const d = baselineDiff(oldPath, newPath);
  stdout(d.lines.map((l) => formatLine(l) + '\n').join(''));
  process.exitCode = d.exitCode;
}
