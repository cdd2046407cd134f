/**
 * DOC: a selftest's `--results DIR` text: the reporters that copy a run's KTAP and kmod.sh
 * output for its run directory. Apart from results-option.ts so that the storm, which also
 * writes run directories, does not load the selftest to name its command.
 */
import { KmodShReporter, KtapReporter, type SelftestReporter } from '../selftest/index.js';

/** Forward every reporter call to each of REPS: the user's output and the run directory's copies. */
export function teeReporter(...reps: SelftestReporter[]): SelftestReporter {
  const each =
    <K extends keyof SelftestReporter>(k: K) =>
    (...args: Parameters<NonNullable<SelftestReporter[K]>>): void => {
      for (const r of reps) (r[k] as ((...a: typeof args) => void) | undefined)?.apply(r, args);
    };
  return {
    line: each('line'),
    clear: each('clear'),
    plan: each('plan'),
    testStart: each('testStart'),
    runStart: each('runStart'),
    runEnd: each('runEnd'),
    testEnd: each('testEnd'),
    notRun: each('notRun'),
    skip: each('skip'),
    finish: each('finish'),
  };
}

/** The KTAP and the kmod.sh text of a selftest run, captured for its run directory. */
export function captureSelftestText(): { reporters: SelftestReporter[]; ktap: () => string; kmodSh: () => string } {
  let ktap = '';
  let kmodSh = '';
  const k = new KtapReporter((s) => void (ktap += s));
  const t = new KmodShReporter(
    (s) => void (kmodSh += s),
    (s) => void (kmodSh += s),
  );
  return { reporters: [k, t], ktap: () => ktap, kmodSh: () => kmodSh };
}
