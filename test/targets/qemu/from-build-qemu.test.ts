/**
 * DOC: `kernel prepare --from-build` end to end on a real kernel under QEMU.
 *
 * CI cannot build a kernel, so the tree is Debian's 6.1 laid out as a build tree (issue 11): the
 * unpacked linux-headers-REL (its .config, Module.symvers, utsrelease.h and kbuild, against which
 * `make -C DIR M=…` builds our modules) with the unpacked vmlinuz as arch/x86/boot/bzImage and
 * linux-source-6.1's lib/test_kmod.c and lib/test_module.c in lib/; its modules come as an
 * installed tree (--modules, the unpacked /lib/modules). Then `selftest --target qemu:NAME -s
 * 0001 --compare` and a storm with --compare run on it through the CLI like on debian-6.1.
 * $KMODLAB_FROM_BUILD_TREE=DIR adds a tree you built yourself (bzImage + make modules_install).
 *
 * Runs when debian-6.1 is prepared (or KMODLAB_QEMU_TESTS is set, then a missing kernel fails);
 * about 3 minutes under TCG on two cores (prepare ~50 s, two boots).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cacheDir, kernelDir } from '../../../src/targets/qemu/kernels.js';
import { readPrepared, type PreparedKernel } from '../../../src/targets/qemu/prepare.js';
import { fromBuildKernel } from '../../../src/targets/qemu/user-kernels.js';
import { runCli } from '../../cli/run-cli.js';

const prepared = readPrepared('debian-6.1');
const forced = !!process.env.KMODLAB_QEMU_TESTS;
const tmp = mkdtempSync(path.join(tmpdir(), 'kmodlab-fbqemu-'));
const NAME = 'fromtree-test-debian-6.1';
const OWN = 'fromtree-test-own';
after(() => {
  rmSync(tmp, { recursive: true, force: true });
  for (const n of [NAME, OWN]) rmSync(kernelDir(cacheDir(), n), { recursive: true, force: true });
});

/** Debian's unpacked kernel as a build tree: DIR = usr/src/linux-headers-REL of a copy. */
function layOutDebianTree(p: PreparedKernel, dest: string): string {
  const root = path.join(p.dir, 'root');
  mkdirSync(path.join(dest, 'usr', 'src'), { recursive: true });
  mkdirSync(path.join(dest, 'usr', 'lib'), { recursive: true });
  execFileSync('cp', ['-a', path.join(root, 'usr', 'src', `linux-headers-${p.release}`), path.join(dest, 'usr', 'src')]);
  // its scripts/ and tools/ are relative links into linux-kbuild-X; the Makefile names -common
  for (const k of readdirSync(path.join(root, 'usr', 'lib')).filter((n) => n.startsWith('linux-kbuild-')))
    symlinkSync(path.join(root, 'usr', 'lib', k), path.join(dest, 'usr', 'lib', k));
  const dir = path.join(dest, 'usr', 'src', `linux-headers-${p.release}`);
  mkdirSync(path.join(dir, 'arch', 'x86', 'boot'), { recursive: true });
  mkdirSync(path.join(dir, 'lib'), { recursive: true });
  copyFileSync(path.join(root, 'boot', `vmlinuz-${p.release}`), path.join(dir, 'arch', 'x86', 'boot', 'bzImage'));
  for (const f of ['test_kmod.c', 'test_module.c']) copyFileSync(path.join(p.dir, 'src', 'lib', f), path.join(dir, 'lib', f));
  return dir;
}

async function selftestAndStorm(name: string, release: string, preset: string): Promise<void> {
  const st = await runCli(['selftest', '--target', `qemu:${name}`, '-s', '0001', '--compare', '--timeout', '400']);
  assert.equal(st.status, 0, st.stderr + st.stdout);
  assert.match(st.stdout, /^kmod_test_0001_driver: OK! - Return value: 256 \(MODULE_NOT_FOUND\), expected MODULE_NOT_FOUND$/m);
  assert.match(st.stdout, /^kmod_test_0001_fs: OK! - Return value: -22 \(-EINVAL\), expected -EINVAL$/m);
  assert.match(st.stdout, new RegExp(`# --compare: qemu:${name.replace(/[.+]/g, '\\$&')} \\(${release.replace(/[.+]/g, '\\$&')}, 2 vCPUs\\) vs sim ${preset} `));
  assert.match(st.stdout, /^no differences: 1 rows agree$/m);
  const storm = await runCli(['storm', '--target', `qemu:${name}`, '--parallel', '4', '--module', 'kml_slow', '--path', 'finit', '--compare', '--timeout', '400']);
  assert.equal(storm.status, 0, storm.stderr + storm.stdout);
  // v6.1-stable and later: one loader wins, the waiters get EEXIST once it is LIVE
  assert.match(storm.stdout, /^\| kml_slow \| finit \| 4 \| EEXIST ×3, 0 ×1 \|/m);
  assert.match(storm.stdout, /^no differences: 1 rows agree$/m);
}

test('Debian 6.1 laid out as a build tree: prepare --from-build, selftest 0001 and a storm', { timeout: 900_000 }, async (t) => {
  if (!prepared && !forced) return t.skip('debian-6.1 not prepared (run `kmodlab kernel prepare debian-6.1`, or set KMODLAB_QEMU_TESTS=1)');
  assert.ok(prepared, 'KMODLAB_QEMU_TESTS is set but debian-6.1 is not prepared');
  const dir = layOutDebianTree(prepared, path.join(tmp, 'debian'));
  const p = await runCli(['kernel', 'prepare', '--from-build', dir, '--modules', path.join(prepared.dir, 'root'), '--name', NAME]);
  assert.equal(p.status, 0, p.stderr);
  assert.equal(p.stdout, `${NAME}\t${prepared.release}\t6.1.${prepared.version.split('.')[2]!.split('-')[0]}\t${kernelDir(cacheDir(), NAME)}\n`);
  // Debian's config lacks the fragment's TEST_KMOD and TEST_LKM: said before anything is built
  assert.match(p.stderr, /the selftest's config fragment wants CONFIG_TEST_KMOD=m \(test_kmod built out of tree from lib\/test_kmod\.c\), CONFIG_TEST_LKM=m .*; this build lacks them/);
  const k = fromBuildKernel(NAME);
  assert.ok(k);
  assert.equal(k.sim.preset, 'v6.1-stable');
  assert.deepEqual(k.build.config.lacking, ['CONFIG_TEST_KMOD', 'CONFIG_TEST_LKM']);
  assert.equal(k.build.modules, path.join(prepared.dir, 'root', 'lib', 'modules', prepared.release));
  const list = await runCli(['kernel', 'list']);
  assert.match(list.stdout, new RegExp(`^${NAME}\tfrom-build\t${prepared.release.replace(/\./g, '\\.')}\t`, 'm'));
  await selftestAndStorm(NAME, prepared.release, 'v6.1-stable');
});

test('a tree you built ($KMODLAB_FROM_BUILD_TREE): bzImage, make modules_install, selftest 0001 and a storm', { timeout: 1_800_000 }, async (t) => {
  const tree = process.env.KMODLAB_FROM_BUILD_TREE;
  if (!tree) return t.skip('KMODLAB_FROM_BUILD_TREE not set (a kernel tree after make and make modules)');
  const name = OWN;
  const p = await runCli(['kernel', 'prepare', '--from-build', tree, '--name', name]);
  assert.equal(p.status, 0, p.stderr);
  const k = fromBuildKernel(name);
  assert.ok(k);
  assert.equal(k.build.modules, null);
  // a tree built with the fragment (CONFIG_TEST_KMOD=m, CONFIG_TEST_LKM=m) gives its own test modules
  if (k.build.config.testKmod === 'tree') {
    assert.doesNotMatch(p.stderr, /test_kmod built out of tree/);
    assert.match(p.stderr, /: test_kmod\.ko and test_module\.ko: the tree's own \(CONFIG_TEST_KMOD=m, CONFIG_TEST_LKM=m\)/);
    assert.match(p.stderr, /: building kml_slow\.ko, kml_fail\.ko with make /);
  }
  await selftestAndStorm(name, k.release, k.sim.preset);
});
