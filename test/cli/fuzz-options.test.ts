/**
 * A fuzz test of the command line (fast-check): random option sets with random values — valid
 * ones, numbers out of range, junk strings, paths that cannot be written — for storm, storm
 * merge, stats, trace, selftest, kernels and machines. Whatever the input, kmodlab must end
 * (each child has a deadline), with an exit code from {0, 1, 2, 4, 124, 130}, with no stack trace
 * and no raw Node error text on stderr, and leave nothing in its output directory but finished
 * results (no temp file, no probe, no half-written report). A failure prints fast-check's seed
 * and path, which replay it (FC_SEED=… FC_PATH=…).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { bin } from './run-cli.js';

const CODES = new Set([0, 1, 2, 4, 124, 130]);
const DEADLINE_MS = 45_000;

interface Ran {
  status: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  timedOut: boolean;
}

function run(args: string[], cwd: string): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd, env: { ...process.env, CI: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let timedOut = false;
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, DEADLINE_MS);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stderr, timedOut });
    });
  });
}

/** every file and directory under dir, relative */
function walk(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((n) => {
    const rel = prefix + n;
    return statSync(path.join(dir, n)).isDirectory() ? [`${rel}/`, ...walk(path.join(dir, n), `${rel}/`)] : [rel];
  });
}

// ---- values ---------------------------------------------------------------------------------

const junk = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('', '-', '--', '-1', '0', '1e3', '0x10', '9999999999999999999', 'NaN', '1,,2', '5-1', '1-9:0', ' 8', 'a b', '../x', '%s', '\u00e9'),
);
const int = (lo: number, hi: number) => fc.integer({ min: lo, max: hi }).map(String);
/** an output path in the case's directory: a new file, one in a missing directory, the directory itself, /proc */
const outPath = (ext: string) => fc.constantFrom(`o.${ext}`, `nodir/o.${ext}`, '.', `/proc/x.${ext}`, `sub.${ext}`, '');

type Opt = [string, fc.Arbitrary<string> | null];

const stormOpts: Opt[] = [
  ['--cpus', fc.oneof(fc.constantFrom('1', '2', '1,4', '2-4:2', '0', '1-0', '4096000'), junk)],
  ['--kernel', fc.oneof(fc.constantFrom('v6.4', 'newest', 'v4.9,v6.5', 'nope', 'v6.4,v6.4'), junk)],
  ['--machine', fc.oneof(fc.constantFrom('kvm-guest', 'qemu-tcg', 'nope', 'sr950'), junk)],
  ['--seed', fc.oneof(int(0, 5), junk)],
  ['--seeds', fc.oneof(int(0, 2), junk)],
  ['--snapshot', fc.oneof(fc.constantFrom('debian-6.1', 'debian-6.12', 'nope'), junk)],
  ['--kmod-version', fc.oneof(int(0, 40), junk)],
  ['--module-area', fc.oneof(fc.constantFrom('1M', '64M', '0', '1G', '12Q'), junk)],
  ['--format', fc.oneof(fc.constantFrom('text', 'table', 'csv', 'json', 'jsonl', 'chart', 'svg', 'html', 'bogus'), junk)],
  ['--categories', fc.oneof(fc.constantFrom('total', 'stacked', 'grouped', 'x'), junk)],
  ['--out', fc.oneof(fc.constantFrom('out', 'nodir/out', '/proc/x', 'afile', ''), junk)],
  ['--svg', fc.oneof(outPath('svg'), junk)],
  ['--html', fc.oneof(outPath('html'), junk)],
  ['--shard', fc.oneof(fc.constantFrom('1/2', '2/2', '0/2', '3/2', '1/0'), junk)],
  ['--threads', fc.oneof(int(0, 3), junk)],
  ['--run-timeout', fc.oneof(int(0, 60), junk)],
  ['--inline', null],
  ['--no-progress', null],
  ['--policy', fc.constantFrom('nope.js', 'afile', '.')],
  ['--module', junk],
  ['--results', fc.constantFrom('res', 'nodir/res', '/proc/x')],
];
const oneRunOpts: Opt[] = [
  ['--cpus', fc.oneof(int(0, 4), junk)],
  ['--kernel', fc.oneof(fc.constantFrom('v6.4', 'newest', 'nope'), junk)],
  ['--machine', fc.oneof(fc.constantFrom('kvm-guest', 'nope'), junk)],
  ['--seed', fc.oneof(int(0, 5), junk)],
  ['--kmod-version', fc.oneof(int(0, 40), junk)],
];
const selftestOpts: Opt[] = [
  ['--kernel', fc.oneof(fc.constantFrom('v6.4', 'v4.9', 'nope'), junk)],
  ['--cpus', fc.oneof(int(0, 4), junk)],
  ['--seed', fc.oneof(int(0, 5), junk)],
  ['--kmod-sh', fc.oneof(fc.constantFrom('v4.13', 'v5.7', 'v5.8', 'v9'), junk)],
  ['--test-modules', fc.oneof(fc.constantFrom('in-tree', 'out-of-tree', 'x'), junk)],
  ['--dmesg', fc.oneof(outPath('txt'), junk)],
  ['--ktap', null],
  ['--target', fc.constantFrom('sim', 'qemu:nope', 'bogus', 'qemu:')],
  ['--mem', junk],
  ['--kernal', junk],
];

function withOpts(opts: Opt[], max: number): fc.Arbitrary<string[]> {
  return fc.uniqueArray(fc.constantFrom(...opts), { maxLength: max, selector: (o) => o[0] }).chain((picked) =>
    picked.length === 0 ? fc.constant([]) : fc.tuple(...picked.map(([name, v]) => (v === null ? fc.constant([name]) : v.map((x) => [name, x])))).map((xs) => xs.flat()),
  );
}

const argv: fc.Arbitrary<string[]> = fc.oneof(
  { weight: 5, arbitrary: withOpts(stormOpts, 5).map((o) => ['storm', '--cpus', '1', '--kernel', 'v6.4', ...o]) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('out', 'nope', 'afile', '.'), withOpts(stormOpts.filter(([n]) => ['--format', '--svg', '--html', '--categories', '--module-area'].includes(n)), 3)).map(([d, o]) => ['storm', 'merge', d, ...o]) },
  { weight: 2, arbitrary: withOpts(oneRunOpts, 3).map((o) => ['stats', '--cpus', '2', ...o]) },
  { weight: 1, arbitrary: fc.tuple(fc.oneof(outPath('json'), fc.constant('-')), withOpts(oneRunOpts, 2)).map(([out, o]) => ['trace', '--cpus', '2', '--out', out, ...o]) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(['-s', '0001'], ['-l'], ['-t', '9999'], ['-c', '0001', '1'], ['-c', '0001', 'x']), withOpts(selftestOpts, 3)).map(([a, o]) => ['selftest', ...a, ...o]) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('kernels', 'machines'), fc.constantFrom([], ['show', 'v6.4'], ['show', 'kvm-guest'], ['show'], ['bogus'])).map(([c, a]) => [c, ...a]) },
);

test('fuzzed options: every run ends, exit in {0,1,2,4,124,130}, no stack trace, nothing stray left in the output directory', async () => {
  const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Date.now() % 2 ** 31;
  const base = mkdtempSync(path.join(os.tmpdir(), 'kmodlab-fuzz-'));
  let n = 0;
  try {
    await fc.assert(
      fc.asyncProperty(argv, async (args) => {
        const cwd = path.join(base, String(n++));
        const { mkdirSync, writeFileSync } = await import('node:fs');
        mkdirSync(cwd);
        writeFileSync(path.join(cwd, 'afile'), 'x');
        mkdirSync(path.join(cwd, 'sub.svg'));
        mkdirSync(path.join(cwd, 'sub.html'));
        mkdirSync(path.join(cwd, 'sub.txt'));
        mkdirSync(path.join(cwd, 'sub.json'));
        const before = new Set(walk(cwd));
        const r = await run(args, cwd);
        const shown = `kmodlab ${args.map((a) => JSON.stringify(a)).join(' ')} → status ${r.status} signal ${r.signal}\n${r.stderr}`;
        assert.ok(!r.timedOut, `did not end within ${DEADLINE_MS / 1000} s: ${shown}`);
        assert.ok(r.status !== null && CODES.has(r.status), `exit code: ${shown}`);
        assert.doesNotMatch(r.stderr, /^\s+at .+:\d+:\d+\)?$/m, `a stack trace: ${shown}`);
        assert.doesNotMatch(r.stderr, /node:internal|Unhandled|TypeError|RangeError|ReferenceError|ERR_[A-Z_]+|\.js:\d+/, `raw Node error text: ${shown}`);
        // bad input is one line
        if (r.status === 2) assert.equal(r.stderr.trimEnd().split('\n').filter((l) => !/^kmodlab: (wrote|results in|storm: \d+\/)/.test(l)).length, 1, `not one line: ${shown}`);
        // what is new in the directory must be finished results: no temp, probe or partial file
        for (const f of walk(cwd).filter((x) => !before.has(x))) {
          const base = f.replace(/\/$/, '').split('/').at(-1)!;
          assert.doesNotMatch(base, /^\.kmodlab-probe-|^\.tmp-|\.\d{6,}$|\.json\.\d+$/, `a temp or probe file ${f}: ${shown}`);
          if (r.status !== 0 && r.status !== 1) {
            // a failed command leaves no report behind; an --out store may hold finished runs
            assert.match(f, /^(out|nodir|res)\/|^(out|nodir|res)\/$|^(out|res)\/.*$/, `a file left by a failed command: ${f}: ${shown}`);
          }
        }
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 14), seed, ...(process.env.FC_PATH !== undefined ? { path: process.env.FC_PATH } : {}), endOnFailure: true, includeErrorInReport: true },
    );
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
