/**
 * Issue 17 item 5: `--snapshot` and `--kmod-version` reach the simulated machine wherever the CLI
 * simulates a module set and a modprobe — the duplicate-load storm (`storm --parallel`) and the
 * selftest on `--target sim` — instead of being ignored. Each check runs the CLI and the library
 * with the same machine and asserts the CLI's figures are the library's for the named set and
 * kmod, and differ from the defaults' (so an option that is dropped again fails the test).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSimDupStorm, type SimDupStormResult } from '../../src/experiments/dupstorm/sim.js';
import { createSimTarget } from '../../src/targets/sim.js';
import { runSelftest, KmodShReporter } from '../../src/selftest/index.js';
import { runCli } from './run-cli.js';

const stormArgs = ['storm', '--parallel', '4', '--module', 'xfs', '--path', 'modprobe', '--target', 'sim:newest', '--format', 'json'];

async function cliStorm(extra: string[]): Promise<SimDupStormResult> {
  const r = await runCli([...stormArgs, ...extra]);
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as SimDupStormResult[])[0]!;
}

test('storm --parallel: --snapshot and --kmod-version pick the module set and the modprobe', async () => {
  const plan = { parallel: [4], modules: ['xfs'], modes: ['modprobe' as const] };
  const [k30, k34, dflt] = await Promise.all([
    cliStorm(['--snapshot', 'debian-6.12', '--kmod-version', '30']),
    cliStorm(['--snapshot', 'debian-6.12', '--kmod-version', '34']),
    cliStorm([]),
  ]);
  for (const [got, kmodVersion] of [[k30, 30], [k34, 34]] as const) {
    const lib = runSimDupStorm({ kernel: 'newest', snapshot: 'debian-6.12', kmodVersion }, plan);
    assert.equal(got.kmodVersion, kmodVersion);
    assert.deepEqual(got.rows, lib.rows, `kmod ${kmodVersion}: the CLI's rows are the library's`);
  }
  // kmod 30 decompresses the .ko.xz itself and calls init_module: N images in vmalloc at once;
  // kmod 34 hands the file to finit_module, which the idempotent check serialises
  assert.ok(k30.rows[0]!.peakVmallocKiB > k34.rows[0]!.peakVmallocKiB, `${k30.rows[0]!.peakVmallocKiB} vs ${k34.rows[0]!.peakVmallocKiB} KiB`);
  // the default set (debian-6.1, uncompressed) is another xfs: another peak
  assert.notEqual(dflt.rows[0]!.peakVmallocKiB, k34.rows[0]!.peakVmallocKiB);
});

async function libDmesg(opts: { modules?: string; kmodVersion?: number }): Promise<string> {
  const target = createSimTarget({ kernel: 'newest', ...opts });
  await runSelftest({ target, args: ['-s', '0009'], env: {}, era: 'v5.8', reporter: new KmodShReporter(() => {}, () => {}), keepGoing: false });
  return target.kernelLog();
}

test('selftest --target sim: --snapshot and --kmod-version reach the machine', async () => {
  const run = async (extra: string[]): Promise<string> => {
    const file = `/tmp/kmodlab-simopt-${process.pid}-${extra.join('_')}.txt`;
    const r = await runCli(['selftest', '-s', '0009', '--dmesg', file, ...extra]);
    assert.ok(r.status === 0 || r.status === 1, r.stderr);
    const { readFileSync, rmSync } = await import('node:fs');
    const text = readFileSync(file, 'utf8');
    rmSync(file);
    return text;
  };
  const [snap, kmod, dflt] = await Promise.all([
    run(['--snapshot', 'debian-6.12']),
    run(['--snapshot', 'debian-6.12', '--kmod-version', '34']),
    run([]),
  ]);
  assert.equal(snap, await libDmesg({ modules: 'debian-6.12' }));
  assert.equal(kmod, await libDmesg({ modules: 'debian-6.12', kmodVersion: 34 }));
  assert.notEqual(snap, dflt, 'an xz module set changes the run');
  // the profile's kmod 30 decompresses a .ko.xz itself; kmod 34 passes the file to finit_module
  assert.notEqual(kmod, snap, 'kmod 34 on xz modules changes the run');
  // kmod.sh's own precondition reads the version: kmod 19 is refused (kselftest skip, 4)
  const old = await runCli(['selftest', '-s', '0001', '--kmod-version', '19']);
  assert.equal(old.status, 4);
  assert.match(old.stderr + old.stdout, /You need at least kmod 20/);
});
