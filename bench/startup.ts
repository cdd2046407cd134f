/**
 * DOC: start-up benchmark — `npm run bench -- startup [--root DIR] [--runs N] [NAME...]`.
 *
 * What a user waits for is a whole process, not the engine: node's own start, every module a
 * command imports, the module-set snapshot it loads, then the work. So each case here runs
 * `node bin/kmodlab.js …` as a child process (output to /dev/null) N times (default 5) under GNU
 * time and prints the median wall time (measured here, to the microsecond), CPU time (user +
 * system, all threads) and peak RSS, each beside its target:
 *   help, kernels, machines   ≤ 0.12 s wall (load only what the command uses)
 *   selftest                  ≤ 0.6 s: `selftest --kernel v6.1-stable`, like for like with the
 *                             real Debian 6.1 run (out-of-tree test modules, 336 iterations)
 *   storm-255                 ≤ 0.3 s: one 255-CPU kvm-guest boot storm
 *   storm-8192                ≤ 0.8 s and ≤ 256 MiB: one 8192-CPU boot storm
 * `--root DIR` times another checkout's build (its bin/kmodlab.js), so a before/after pair is
 * measured by the same code back to back. The load average is printed first: on a shared machine
 * every wall figure includes the other processes' share of the cores. So `--instructions` also
 * counts the instructions of the start-up cases (help, kernels, machines; once each, under
 * valgrind's callgrind, node --single-threaded so V8's helper threads do not vary the count): a
 * figure the other processes on the machine do not change, for a before/after on a busy host;
 * `--instructions selftest` counts the selftest's too (about 8 G instructions, minutes under
 * callgrind, so only when the case is named), and so do `--instructions storm_255cpu` (~4 G) and
 * `--instructions storm_8192cpu` (~15 G).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bench } from './bench-util.js';

interface Case {
  name: string;
  args: string[];
  wallTargetMs: number;
  rssTargetMiB?: number;
  /**
   * counted with --instructions: true for the short start-up cases; 'named' for a case that takes
   * minutes under valgrind (the selftest: ~8 G instructions), counted only when named too
   */
  instructions?: boolean | 'named';
}

const CASES: Case[] = [
  { name: 'help', args: ['--help'], wallTargetMs: 120, instructions: true },
  { name: 'kernels', args: ['kernels'], wallTargetMs: 120, instructions: true },
  { name: 'machines', args: ['machines'], wallTargetMs: 120, instructions: true },
  { name: 'selftest', args: ['selftest', '--kernel', 'v6.1-stable'], wallTargetMs: 600, instructions: 'named' },
  { name: 'storm_255cpu', args: ['storm', '--cpus', '255', '--kernel', 'v6.1-stable'], wallTargetMs: 300, instructions: 'named' },
  { name: 'storm_8192cpu', args: ['storm', '--cpus', '8192', '--kernel', 'v6.1-stable'], wallTargetMs: 800, rssTargetMiB: 256, instructions: 'named' },
];

const TIME = '/usr/bin/time';
const VALGRIND = '/usr/bin/valgrind';

interface Sample {
  wallMs: number;
  cpuMs: number;
  rssMiB: number;
  status: number | null;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** One whole process under GNU time: wall from here, CPU and peak RSS from its rusage. */
function runOnce(bin: string, args: string[], scratch: string): Sample {
  const out = join(scratch, 'time.txt');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(TIME, ['-o', out, '-f', '%U %S %M', process.execPath, bin, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    cwd: scratch,
  });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const fields = readFileSync(out, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  if (fields.length !== 3 || fields.some((f) => !Number.isFinite(f))) {
    throw new Error(`bench startup: cannot read ${TIME}'s output for ${args.join(' ')}: ${r.stderr.toString().split('\n')[0]}`);
  }
  const [user, sys, maxRssKiB] = fields;
  return { wallMs, cpuMs: (user + sys) * 1000, rssMiB: maxRssKiB / 1024, status: r.status };
}

/** instructions of one whole process under callgrind (all threads; V8 kept to one by --single-threaded) */
function instructionsOnce(bin: string, args: string[], scratch: string): number {
  const r = spawnSync(VALGRIND, ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath, '--single-threaded', bin, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    cwd: scratch,
  });
  const m = /Collected : (\d+)/.exec(r.stderr.toString());
  if (m === null) throw new Error(`bench startup: no instruction count from valgrind for ${args.join(' ')}: ${r.stderr.toString().trim().split('\n').pop()}`);
  return Number(m[1]);
}

export function run(args: string[] = []): void {
  let root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
  let runs = 5;
  let instructions = false;
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--root') root = resolve(args[++i] ?? '.');
    else if (args[i] === '--runs') runs = Number(args[++i]);
    else if (args[i] === '--instructions') instructions = true;
    else names.push(args[i]);
  }
  const bin = join(root, 'bin', 'kmodlab.js');
  if (!existsSync(bin)) throw new Error(`bench startup: no ${bin} (--root names a checkout with a build)`);
  if (!existsSync(TIME)) throw new Error(`bench startup: needs GNU time at ${TIME} (Debian package time)`);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('bench startup: --runs takes a positive integer');
  if (instructions && !existsSync(VALGRIND)) throw new Error(`bench startup: --instructions needs valgrind at ${VALGRIND} (Debian package valgrind)`);
  const unknown = names.filter((n) => !CASES.some((c) => c.name === n));
  if (unknown.length > 0) throw new Error(`bench startup: no case ${unknown.join(', ')} (cases: ${CASES.map((c) => c.name).join(', ')})`);
  const cases = names.length === 0 ? CASES : CASES.filter((c) => names.includes(c.name));

  process.stdout.write(`# startup: ${bin}, median of ${runs}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  // a scratch cwd, so a command that writes next to itself cannot touch the checkout
  const scratch = mkdtempSync(join(tmpdir(), 'kmodlab-bench-startup-'));
  try {
    for (const c of cases) {
      const samples: Sample[] = [];
      for (let i = 0; i < runs; i++) samples.push(runOnce(bin, c.args, scratch));
      const statuses = [...new Set(samples.map((s) => s.status))];
      const wall = median(samples.map((s) => s.wallMs));
      const rss = median(samples.map((s) => s.rssMiB));
      const m = `startup_${c.name}`;
      bench(`${m}_wall_ms`, wall, 'ms');
      bench(`${m}_wall_ms_target`, c.wallTargetMs, 'ms');
      bench(`${m}_cpu_ms`, median(samples.map((s) => s.cpuMs)), 'ms');
      bench(`${m}_peak_rss_mib`, rss, 'MiB');
      if (c.rssTargetMiB !== undefined) bench(`${m}_peak_rss_mib_target`, c.rssTargetMiB, 'MiB');
      bench(`${m}_exit_code`, statuses[0] ?? -1, 'code');
      if (statuses.length > 1) process.stdout.write(`# startup: ${c.name}: the exit code differed between runs (${statuses.join(', ')})\n`);
      if (wall > c.wallTargetMs) process.stdout.write(`# startup: ${c.name} is over its ${c.wallTargetMs} ms target\n`);
      if (c.rssTargetMiB !== undefined && rss > c.rssTargetMiB) process.stdout.write(`# startup: ${c.name} is over its ${c.rssTargetMiB} MiB target\n`);
      if (instructions && (c.instructions === true || (c.instructions === 'named' && names.includes(c.name)))) bench(`${m}_instructions`, instructionsOnce(bin, c.args, scratch), 'instructions');
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  process.stdout.write(`# startup: load average after ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
}
