/**
 * DOC: the CLI side of `--results DIR` (src/results/results-dir.ts): what a run's command.json
 * says about where it came from — the argv after `kmodlab` (without --results), kmodlab's
 * version from package.json and the checkout's `git describe --always --dirty`.
 *
 * KMODLAB_RESULTS_COMMIT=off leaves the commit out: the committed simulator baseline
 * (data/baselines/, scripts/baseline-update.mjs) must not change with every commit.
 */
import { spawnSync } from 'node:child_process';
import { kmodlabVersion, ROOT } from './version.js';
import { withoutResultsOption, type RunCommand, type RunKind } from '../results/results-dir.js';

export { kmodlabVersion } from './version.js';

function gitCommit(env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (env.KMODLAB_RESULTS_COMMIT === 'off') return undefined;
  const r = spawnSync('git', ['-C', ROOT, 'describe', '--always', '--dirty', '--abbrev=12'], { encoding: 'utf8', timeout: 5000 });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** The command record of a run of KIND on RELEASE, from the process's argv (or a given one). */
export function runCommand(
  kind: RunKind,
  release: string,
  target: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
  argv: readonly string[] = process.argv.slice(2),
): RunCommand {
  const commit = gitCommit(env);
  return {
    format: 'kmodlab-results-run',
    kind,
    release,
    target,
    argv: withoutResultsOption(argv),
    kmodlabVersion: kmodlabVersion(),
    ...(commit !== undefined ? { gitCommit: commit } : {}),
  };
}
