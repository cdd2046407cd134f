/**
 * Options and output paths are checked before any work (issue 12, items 2 and 7): a bad
 * `--format`, an `--html` in a missing directory, an `--svg` on /proc or a `--dmesg` that cannot
 * be written fail at once with one line naming the option and the user's path — before a run
 * starts, so nothing is computed and lost, and no result directory is made.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ioError, InputError } from '../../src/errors.js';
import { checkOutputDir, checkOutputFile, writeOutputFile } from '../../src/io/output.js';
import { runCli } from './run-cli.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'kmodlab-outpaths-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const adir = path.join(tmp, 'adir');
const afile = path.join(tmp, 'afile');
mkdirSync(adir);
writeFileSync(afile, 'x');

const cases: [string[], RegExp][] = [
  [['storm', '--format', 'bogus'], /^kmodlab: --format: unknown format "bogus"/],
  [['storm', '--categories', 'bogus'], /^kmodlab: --categories: unknown mode "bogus"/],
  [['storm', '--html', 'nodir/r.html'], /^kmodlab: --html nodir\/r\.html: no such directory nodir$/],
  [['storm', '--svg', '/proc/x.svg'], /^kmodlab: --svg \/proc\/x\.svg: cannot create files in \/proc/],
  [['storm', '--svg', adir], /^kmodlab: --svg \S+adir: is a directory$/],
  [['storm', '--out', '/proc/x'], /^kmodlab: --out \/proc\/x: cannot create a directory in \/proc/],
  [['storm', '--out', afile], /^kmodlab: --out \S+afile: not a directory$/],
  [['selftest', '--dmesg', '/bad/path'], /^kmodlab: --dmesg \/bad\/path: no such directory \/bad$/],
  [['selftest', '--dmesg', adir], /^kmodlab: --dmesg \S+adir: is a directory$/],
  [['trace', '--out', adir], /^kmodlab: --out \S+adir: is a directory$/],
  [['trace', '--out', path.join(tmp, 't.json'), '--svg', '/proc/t.svg'], /^kmodlab: --svg \/proc\/t\.svg: cannot create files in \/proc/],
  // '-' is stdout to a user: refused where stdout holds the command's own output (it wrote a file named '-')
  [['storm', '--svg', '-'], /^kmodlab: --svg -: stdout already holds this command's output; give a file name \(\.\/- for a file named -\)$/],
  [['storm', '--html', '-'], /^kmodlab: --html -: stdout already holds/],
  [['storm', '--out', '-'], /^kmodlab: --out -: wants a directory, not stdout; give a directory name \(\.\/- for one named -\)$/],
  [['selftest', '--dmesg', '-'], /^kmodlab: --dmesg -: stdout already holds/],
  [['explore', 'self-load', '--replay', '1', '--trace', '-'], /^kmodlab: --trace -: stdout already holds/],
  [['explore', 'self-load', '--out', '-'], /^kmodlab: --out -: wants a directory, not stdout/],
  [['trace', '--out', '-', '--svg', '-'], /^kmodlab: --svg -: --out - writes the trace to stdout already; give the picture a file name$/],
];

for (const [args, re] of cases) {
  test(`checked up front: kmodlab ${args.join(' ')}`, async () => {
    const out = path.join(tmp, `out-${Math.random().toString(36).slice(2)}`);
    // with --out too (when the case has none): the result directory must not even be created
    const full = args[0] === 'storm' && !args.includes('--out') ? [...args, '--out', out, '--inline', '--cpus', '1'] : args;
    const r = await runCli(full);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.split('\n').length, 2, r.stderr);
    assert.match(r.stderr.trimEnd(), re);
    assert.equal(r.stdout, '', 'no work was done (the suite printed nothing)');
    assert.deepEqual(readdirSync(tmp).filter((n) => n.startsWith('out-') || n.startsWith('.kmodlab-probe')), []);
  });
}

test('the probes leave nothing behind', () => {
  checkOutputFile('--svg', path.join(adir, 'x.svg'));
  checkOutputDir('--out', path.join(adir, 'new/deeper'));
  checkOutputDir('--out', adir);
  assert.deepEqual(readdirSync(adir), []);
});

test('a write that fails names the option and the user path, not a temp file', async () => {
  await assert.rejects(writeOutputFile('--svg', adir, 'x'), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.equal(e.message, `--svg ${adir}: is a directory`);
    return true;
  });
  await assert.rejects(writeOutputFile('--html', path.join(tmp, 'gone', 'r.html'), 'x'), /^InputError: --html \S+gone\/r\.html: no such file or directory$/);
  assert.equal(ioError('--out', '/tmp/x/adir', Object.assign(new Error('EISDIR: rename /tmp/x/adir.2952534462'), { code: 'EISDIR' })).message, '--out /tmp/x/adir: is a directory');
  assert.deepEqual(readdirSync(adir), []);
});

test('a --dmesg that cannot be written after the suite keeps its verdict and says so', async () => {
  const { runSelftestCli } = await import('../../src/cli/commands/selftest.js');
  const dir = path.join(tmp, 'vanishing');
  mkdirSync(dir);
  let out = '';
  let err = '';
  const io = {
    stdout: (s: string) => {
      out += s;
      // the directory goes away while the suite runs
      rmSync(dir, { recursive: true, force: true });
    },
    stderr: (s: string) => void (err += s),
    env: {},
  };
  const code = await runSelftestCli(['-s', '0001'], { target: 'sim', dmesg: path.join(dir, 'dmesg.txt') }, io);
  assert.match(out, /kmod_test_0001_driver: OK!/);
  assert.match(err, /^kmodlab: --dmesg \S+dmesg\.txt: no such file or directory\n$/);
  assert.equal(code, 2);
});

test("trace: '-' is stdout for --out or for --svg (the other to its file), never a file named '-'", async () => {
  const dir = mkdtempSync(path.join(tmp, 'dash-'));
  const json = await runCli(['trace', '--cpus', '2', '--out', '-', '--svg', 'p.svg'], { cwd: dir });
  assert.equal(json.status, 0, json.stderr);
  assert.ok(JSON.parse(json.stdout).traceEvents.length > 0, 'the trace on stdout');
  assert.equal(json.stderr, 'kmodlab: wrote stdout (1554 events, 2052 log records)\nkmodlab: wrote p.svg\n');
  const svg = await runCli(['trace', '--cpus', '2', '--out', 't.json', '--svg', '-'], { cwd: dir });
  assert.equal(svg.status, 0, svg.stderr);
  assert.match(svg.stdout, /^<svg [^]*<\/svg>\n$/);
  assert.match(svg.stderr, /^kmodlab: wrote t\.json \(\d+ events, \d+ log records\)\nkmodlab: wrote stdout\n$/);
  assert.deepEqual(readdirSync(dir).sort(), ['p.svg', 't.json']);
});

// the real-kernel commands' directories, checked before any boot (Node's recursive mkdir spins
// forever under /proc; they were made at the boot or after the session). An empty cache: nothing
// is prepared, so no row can boot a guest even if its check were missing.
const beforeBoot: [string[], RegExp][] = [
  [['storm', '--target', 'qemu:debian-6.1', '--log-dir', '/proc/x'], /^kmodlab: --log-dir \/proc\/x: cannot create a directory in \/proc/],
  [['storm', '--target', 'qemu:debian-6.1', '--out', '/proc/x'], /^kmodlab: --out \/proc\/x: cannot create a directory in \/proc/],
  [['storm', '--target', 'qemu:debian-6.1', '--log-dir', afile], /^kmodlab: --log-dir \S+afile: not a directory$/],
  [['storm', '--target', 'qemu:debian-6.1', '--parallel', '1', '--log-dir', '/proc/x'], /^kmodlab: --log-dir \/proc\/x: cannot create a directory in \/proc/],
  [['selftest', '--target', 'qemu:debian-6.1', '--log-dir', '/proc/x'], /^kmodlab: --log-dir \/proc\/x: cannot create a directory in \/proc/],
  [['selftest', '--target', 'qemu:debian-6.1', '--log-dir', '-'], /^kmodlab: --log-dir -: wants a directory, not stdout/],
  [['kernel', 'boot', 'debian-6.1', '--log-dir', '/proc/x'], /^kmodlab: --log-dir \/proc\/x: cannot create a directory in \/proc/],
  [['kernel', 'storm', 'debian-6.1', '--parallel', '1', '--log-dir', '/proc/x'], /^kmodlab: --log-dir \/proc\/x: cannot create a directory in \/proc/],
  // a time past Node's timers (2^31 - 1 ms) would fire at once
  [['storm', '--target', 'qemu:debian-6.1', '--parallel', '1', '--timeout', '99999999'], /^kmodlab: --timeout 99999999: want at most 1000000 \(seconds\)$/],
  [['kernel', 'boot', 'debian-6.1', '--timeout', '99999999'], /^kmodlab: --timeout 99999999: want at most 1000000 \(seconds\)$/],
];
for (const [args, re] of beforeBoot) {
  test(`checked before any boot: kmodlab ${args.join(' ')}`, async () => {
    const cache = path.join(tmp, 'empty-cache');
    const r = await runCli(args, { env: { KMODLAB_CACHE: cache } });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.split('\n').length, 2, r.stderr);
    assert.match(r.stderr.trimEnd(), re);
    assert.equal(r.stdout, '');
  });
}
