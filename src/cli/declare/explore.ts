/**
 * DOC: `kmodlab explore` as the command line shows it; the exploration is ../commands/explore.ts,
 * imported when the command runs.
 */
import type { Command } from 'commander';
import { lazy } from './lazy.js';

export function register(program: Command): void {
  program
    .command('explore')
    .description('many seeds or interleavings of a small scenario; every distinct outcome')
    .argument('<scenario>', 'a built-in scenario name, a JSON file or a .ts/.js module')
    .option('--kernel <p,…>', 'presets, side by side (default: the scenario\'s)')
    .option('--runs <n>', 'schedules per preset (exhaustive: at most)', '1000')
    .option('--budget <s>', 'wall-clock budget per preset, e.g. 60s (without --runs: no schedule limit)')
    .option('--strategy <s>', 'random | pct | exhaustive', 'random')
    .option('--depth <d>', 'pct depth; exhaustive: ties run out of FIFO order at most', '3')
    .option('--points <n>', 'exhaustive: values tried per duration range (ends included)', '3')
    .option('--seed <n>', 'first seed', '1')
    .option('--format <f>', 'text | json', 'text')
    .option('--out <dir>', 'keep the exploration in DIR (atomic); re-running resumes')
    .option('--no-shrink', 'do not shrink rare or failing outcomes')
    .option('--replay <seed>', 'run one schedule again and print its outcome')
    .option('--path <p>', 'with --replay: the decisions (a:b:c, or "defaults"), as explore prints them')
    .option('--drop <names>', 'with --replay: scenario processes left out (a shrunk schedule)')
    .option('--trace <file.json>', 'with --replay: Chrome trace-event JSON of the schedule')
    .option('--dmesg <file>', 'with --replay: the kernel log of the schedule')
    .action(lazy(() => import('../commands/explore.js'), 'exploreAction'));
}
