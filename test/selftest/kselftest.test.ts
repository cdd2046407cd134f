/**
 * DOC: the `kmod` kselftest collection (`kmodlab kselftest install DIR`) run by the kernel's own
 * run_kselftest.sh and kselftest/runner.sh, unmodified from Debian's linux-source (fetched into
 * the kmodlab cache by scripts/ci/kselftest-tools.sh; skipped with its reason when they cannot
 * be had). What is checked is the TAP the runner prints: `ok 1 selftests: kmod: kmod.sh` for a
 * pass, `# SKIP` for kselftest's exit 4, `not ok … # exit=1` for a failure, `# TIMEOUT` for the
 * runner's own timeout (kmodlab's earlier deadline, or the runner's SIGTERM reaching kmodlab,
 * which closes its KTAP first) — and KSELFTEST_KMOD_SH_ARGS passing kmod.sh's and kmodlab's
 * arguments. Plus the files themselves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { installCollection } from '../../src/cli/commands/kselftest.js';
import { kselftestCollection, withListEntry } from '../../src/selftest/kselftest.js';
import { runCli } from '../cli/run-cli.js';
import { kernelTools } from '../fixtures/kselftest/tools.js';

const tools = kernelTools();
const skip = 'skip' in tools ? tools.skip : false;

test('the collection: kmod.sh execs kmodlab with the defaults first, settings fit the target, config, list entry', () => {
  const sim = kselftestCollection({ kmodlab: ['/usr/bin/node', '/opt/kml/bin/kmodlab.js'], target: 'sim', kernel: 'v6.4' });
  assert.match(sim['kmod/kmod.sh'], /^#!\/bin\/sh\n/);
  assert.match(sim['kmod/kmod.sh'], /^exec \/usr\/bin\/node \/opt\/kml\/bin\/kmodlab\.js selftest --ktap --target sim --kernel v6\.4 --timeout 290 "\$@"$/m);
  assert.equal(sim['kmod/settings'], 'timeout=300\n');
  assert.equal(sim['kmod/config'], 'CONFIG_TEST_KMOD=m\nCONFIG_TEST_LKM=m\nCONFIG_XFS_FS=m\nCONFIG_TUN=m\nCONFIG_BTRFS_FS=m\n');
  const q = kselftestCollection({ kmodlab: ['/usr/bin/node', "/it's here/kmodlab.js"], target: 'qemu:debian-6.1' });
  // a real kernel under TCG needs ~22 minutes for the suite: far more than kselftest's 45 s
  assert.equal(q['kmod/settings'], 'timeout=2700\n');
  assert.match(q['kmod/kmod.sh'], /^exec \/usr\/bin\/node '\/it'\\''s here\/kmodlab\.js' selftest --ktap --target qemu:debian-6\.1 --timeout 2640 "\$@"$/m);
  assert.equal(kselftestCollection({ kmodlab: ['k'], target: 'sim', timeoutS: 8 })['kmod/settings'], 'timeout=8\n');
  assert.equal(withListEntry(null), 'kmod:kmod.sh\n');
  assert.equal(withListEntry('net:a.sh\nkmod:kmod.sh\nsize:get_size\n'), 'net:a.sh\nkmod:kmod.sh\nsize:get_size\n');
  assert.equal(withListEntry('net:a.sh'), 'net:a.sh\nkmod:kmod.sh\n');
});

test('kselftest install: files written (kmod.sh executable), the list kept; bad inputs are one line', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kmodlab-ksft-'));
  try {
    writeFileSync(path.join(dir, 'kselftest-list.txt'), 'timers:nanosleep\n');
    const r = await installCollection(dir, { target: 'sim' });
    assert.equal(r.timeoutS, 300);
    assert.equal(statSync(path.join(dir, 'kmod/kmod.sh')).mode & 0o777, 0o755);
    assert.equal(readFileSync(path.join(dir, 'kselftest-list.txt'), 'utf8'), 'timers:nanosleep\nkmod:kmod.sh\n');
    await installCollection(dir, { target: 'sim' });
    assert.equal(readFileSync(path.join(dir, 'kselftest-list.txt'), 'utf8'), 'timers:nanosleep\nkmod:kmod.sh\n', 'installed twice, listed once');
    const bad = async (args: string[], line: RegExp): Promise<void> => {
      const c = await runCli(['kselftest', 'install', ...args]);
      assert.equal(c.status, 2, `${args.join(' ')}: ${c.stderr}`);
      assert.match(c.stderr.trim(), line);
      assert.equal(c.stderr.trim().split('\n').length, 1);
    };
    await bad([path.join(dir, 'nope')], /^kmodlab: \S+nope: no such directory/);
    await bad([dir, '--target', 'nope'], /^kmodlab: --target nope: want sim, sysfs or qemu:NAME$/);
    await bad([dir, '--target', 'qemu:debian-6.1', '--kernel', 'v6.4'], /^kmodlab: --kernel: only for --target sim/);
    await bad([dir, '--kernel', 'v9.9'], /^kmodlab: preset: unknown preset 'v9\.9'/);
    await bad([dir, '--timeout', '1'], /^kmodlab: --timeout 1: want an integer >= 5$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** an installed kselftest tree: the kernel's run_kselftest.sh and kselftest/, and our collection */
async function kselftestTree(testing: string, install: { target: string; timeout?: string }): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kmodlab-ksft-run-'));
  cpSync(path.join(testing, 'selftests', 'run_kselftest.sh'), path.join(dir, 'run_kselftest.sh'));
  cpSync(path.join(testing, 'selftests', 'kselftest'), path.join(dir, 'kselftest'), { recursive: true });
  await installCollection(dir, install);
  return dir;
}

/**
 * `run_kselftest.sh -c kmod`, with KSELFTEST_KMOD_SH_ARGS. Its output goes to a file: runner.sh
 * opens /dev/stdout by name, which a socket (Node's 'pipe') cannot be opened as.
 */
async function runKselftest(dir: string, args: string): Promise<{ code: number | null; out: string; ms: number }> {
  const t0 = Date.now();
  const file = path.join(dir, `out-${t0}.txt`);
  const fd = openSync(file, 'a');
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, KSELFTEST_KMOD_SH_ARGS: args };
    delete env.DIR; // runner.sh assigns DIR itself; an exported one would reach kmod.sh
    const code = await new Promise<number | null>((resolve, reject) => {
      const p = spawn(path.join(dir, 'run_kselftest.sh'), ['-c', 'kmod'], { cwd: dir, env, stdio: ['ignore', fd, fd] });
      p.on('error', reject);
      p.on('close', (c) => resolve(c));
    });
    return { code, out: readFileSync(file, 'utf8'), ms: Date.now() - t0 };
  } finally {
    closeSync(fd);
  }
}

test('run_kselftest.sh -c kmod: pass, fail (exit=1) and kmodlab options through KSELFTEST_KMOD_SH_ARGS', { skip, timeout: 180_000 }, async () => {
  if ('skip' in tools) return;
  const dir = await kselftestTree(tools.testing, { target: 'sim' });
  try {
    assert.match(spawnSync(path.join(dir, 'run_kselftest.sh'), ['-l'], { encoding: 'utf8' }).stdout, /^kmod:kmod\.sh$/m);
    const pass = await runKselftest(dir, '--test-modules in-tree');
    assert.match(pass.out, /^TAP version 13\n1\.\.1\n/);
    assert.match(pass.out, /^# selftests: kmod: kmod\.sh$/m);
    assert.match(pass.out, /^ok 1 selftests: kmod: kmod\.sh$/m);
    // kmodlab's KTAP, nested under the runner's "# " prefix, every test of the suite
    assert.match(pass.out, /^# ok 13 kmod_test_0013$/m);
    assert.match(pass.out, /^# # Totals: pass:13 fail:0 xfail:0 xpass:0 skip:0 error:0$/m);
    // Debian's out-of-tree test_module fails 0012 (the installed default: the real kernel's behaviour)
    const fail = await runKselftest(dir, '');
    assert.match(fail.out, /^# not ok 12 kmod_test_0012$/m);
    assert.match(fail.out, /^not ok 1 selftests: kmod: kmod\.sh # exit=1$/m);
    // kmod.sh's own arguments and a kmodlab option together
    const one = await runKselftest(dir, '-t 0008 --kernel v4.9 --machine sr950');
    assert.match(one.out, /^# 1\.\.1$/m);
    assert.match(one.out, /^# {5}# kmod_test_0008: FAIL, test expects SUCCESS \(0\) - got invalid \(-12\)$/m);
    assert.match(one.out, /^not ok 1 selftests: kmod: kmod\.sh # exit=1$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run_kselftest.sh -c kmod: a skip (exit 4) is "# SKIP"', { skip: skip || (existsSync('/sys/devices/virtual/misc/test_kmod0') || spawnSync('modinfo', ['test_kmod']).status === 0 ? 'this host has test_kmod: --target sysfs would run for real' : false), timeout: 60_000 }, async () => {
  if ('skip' in tools) return;
  const dir = await kselftestTree(tools.testing, { target: 'sim' });
  try {
    // the host has no test_kmod: kmod.sh's precondition skip
    const r = await runKselftest(dir, '--target sysfs -t 0001');
    assert.match(r.out, /^# 1\.\.0 # SKIP kmod\.sh: \/sys\/devices\/virtual\/misc\/test_kmod0\/ not present$/m);
    assert.match(r.out, /^ok 1 selftests: kmod: kmod\.sh # SKIP$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("run_kselftest.sh -c kmod: the settings timeout — kmodlab's own deadline first, or the runner's SIGTERM — is # TIMEOUT with kmodlab's KTAP closed", { skip, timeout: 120_000 }, async () => {
  if ('skip' in tools) return;
  let dir = await kselftestTree(tools.testing, { target: 'sim', timeout: '20' });
  try {
    // 100000 runs of 0009, so only a deadline ends them: 2000 (11.6 s here) ended before the runner's 6 s on a
    // faster CI machine once the engine got faster, and the SIGTERM never came
    // kmodlab's deadline (a later --timeout wins over the installed one) ends the run before the runner's
    const own = await runKselftest(dir, '-c 0009 100000 --timeout 3');
    assert.match(own.out, /^# not ok 1 kmod_test_0009 # TIMEOUT --timeout 3 s$/m);
    assert.match(own.out, /^not ok 1 selftests: kmod: kmod\.sh # TIMEOUT 20 seconds$/m);
    // which deadline ended it is the KTAP's word above, not the wall time: on a loaded host the runner's
    // line-prefixing of the ~0.5 MB output alone took 24–39 s after kmodlab's 3 s
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  dir = await kselftestTree(tools.testing, { target: 'sim', timeout: '6' });
  try {
    // kmodlab's own deadline after the runner's: the runner's timeout(1) sends SIGTERM
    const killed = await runKselftest(dir, '-c 0009 100000 --timeout 100');
    // on a failure, the end of the output is what tells how the run ended (it is ~0.5 MB long)
    const end = `exit ${killed.code} after ${killed.ms} ms; the output's last lines:\n${killed.out.slice(-2000)}`;
    assert.match(killed.out, /^# not ok 1 kmod_test_0009 # ERROR interrupted by SIGTERM$/m, end);
    assert.match(killed.out, /^# # Totals: pass:0 fail:0 xfail:0 xpass:0 skip:0 error:1$/m, end);
    assert.match(killed.out, /^not ok 1 selftests: kmod: kmod\.sh # TIMEOUT 6 seconds$/m, end);
    assert.ok(killed.ms < 100_000, `ended by the runner after 6 s, not by kmodlab's 100 s (${killed.ms} ms)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
