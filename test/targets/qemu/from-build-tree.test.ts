/**
 * DOC: reading a build tree for --from-build: the release from the image's boot-protocol header,
 * the version from the Makefile (through a headers tree's include), the default name, the
 * preset and suite choices, and every way a tree can be unfit — each one InputError line.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { builtModule, checkKernelName, imageVersionString, makefileVersion, nameFromRelease, readBuildTree, utsRelease } from '../../../src/targets/qemu/from-build-tree.js';
import { copyTreeModule, hostSuite, planFromBuild } from '../../../src/targets/qemu/from-build.js';
import { readPrepared } from '../../../src/targets/qemu/prepare.js';
import { bzImageHeader, DEBIAN_CONFIG, kconfig, makeTree } from './from-build-tree.helpers.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'kmodlab-fromtree-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => path.join(tmp, `t${n++}`);

test("the release is the image's kernel_version string; Debian's own vmlinuz when it is in the cache", (t) => {
  assert.equal(imageVersionString(bzImageHeader('6.1.176 (root@x) #1 SMP')), '6.1.176 (root@x) #1 SMP');
  assert.equal(imageVersionString(Buffer.alloc(0x4000)), null);
  assert.equal(imageVersionString(Buffer.from('\x7fELF')), null);
  const prepared = readPrepared('debian-6.1');
  const f = prepared ? path.join(prepared.dir, 'root', 'boot', `vmlinuz-${prepared.release}`) : null;
  if (f === null || !existsSync(f)) return t.skip('debian-6.1 not prepared');
  assert.match(imageVersionString(readFileSync(f).subarray(0, 0x10000))!, /^6\.1\.0-\d+-amd64 \(debian-kernel@lists\.debian\.org\) #1 SMP PREEMPT_DYNAMIC Debian 6\.1\.\d+-1 /);
});

test('version from the Makefile, release from utsrelease.h, a name from the release', () => {
  assert.equal(makefileVersion('VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 176\nEXTRAVERSION =\n'), '6.1.176');
  assert.equal(makefileVersion('VERSION = 7\nPATCHLEVEL = 2\n'), '7.2.0');
  assert.equal(makefileVersion('include /usr/src/linux-headers-6.1.0-50-common/Makefile\n'), null);
  assert.equal(utsRelease('#define UTS_RELEASE "6.1.0-50-amd64"\n'), '6.1.0-50-amd64');
  assert.equal(nameFromRelease('6.8.0-rc1+'), '6.8.0-rc1+');
  assert.equal(nameFromRelease('6.1.0 my/tree'), '6.1.0-my-tree');
  assert.throws(() => checkKernelName('debian-6.1'), /^InputError: --name debian-6\.1: a built-in kernel has this name; choose another$/);
  assert.throws(() => checkKernelName('../x'), /^InputError: --name \.\.\/x: want letters/);
});

test("a headers tree's wrapper Makefile is followed to the version", () => {
  const common = makeTree(fresh());
  const dir = makeTree(fresh(), { makefile: `include ${path.join(common, 'Makefile')}\n`, uts: '6.1.0-50-amd64', image: '6.1.0-50-amd64 (debian-kernel@lists.debian.org) #1 SMP' });
  const tree = readBuildTree(dir);
  assert.equal(tree.kernelVersion, '6.1.176');
  assert.equal(tree.release, '6.1.0-50-amd64');
  assert.equal(tree.sources, path.join(dir, 'lib'));
});

test('the plan: default name, preset by version, suite from os-release; --preset and --name win', () => {
  const dir = makeTree(fresh());
  const p = planFromBuild({ dir, osRelease: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_CODENAME=bookworm\n' });
  assert.deepEqual([p.name, p.preset.preset, p.suite, p.check.testKmod], ['6.1.176', 'v6.1-stable', 'bookworm', 'tree']);
  const q = planFromBuild({ dir, name: 'mine', preset: 'v6.4', userspace: 'trixie' });
  assert.deepEqual([q.name, q.preset, q.suite], ['mine', { preset: 'v6.4', reason: '--preset' }, 'trixie']);
  assert.equal(hostSuite('ID=debian\n'), null);
  assert.throws(() => planFromBuild({ dir, osRelease: 'ID=debian\n' }), /--userspace: the host's Debian suite is unknown/);
  assert.throws(() => planFromBuild({ dir, preset: 'v9.9' }), /^InputError: --preset: unknown preset 'v9\.9'/);
});

test("Debian 6.1's config without lib/test_kmod.c: nothing to build test_kmod from", () => {
  const dir = makeTree(fresh(), { config: kconfig(DEBIAN_CONFIG), lib: false });
  assert.throws(() => planFromBuild({ dir, userspace: 'bookworm' }), /: CONFIG_TEST_KMOD is not =m and the tree has no lib\/test_kmod\.c to build it from$/);
  writeFileSync(path.join(dir, '.config'), kconfig(DEBIAN_CONFIG).replace('CONFIG_MODULE_UNLOAD=y', '# CONFIG_MODULE_UNLOAD is not set'));
  assert.throws(() => planFromBuild({ dir, userspace: 'bookworm' }), /^InputError: --from-build .*: \.config: CONFIG_MODULE_UNLOAD is not set, want =y \(kmod\.sh and the storms remove modules \(rmmod\)\)$/);
});

test('an unfit tree is one line naming what is wrong', () => {
  const bad = (shape: Parameters<typeof makeTree>[1], re: RegExp, o: { image?: string; modules?: string } = {}) =>
    assert.throws(() => readBuildTree(makeTree(fresh(), shape), o), re);
  assert.throws(() => readBuildTree(path.join(tmp, 'nope')), /^InputError: --from-build .*nope: no such directory$/);
  bad({ config: null }, /: no \.config \(configure and build the kernel first/);
  bad({ uts: null }, /: not built \(no include\/generated\/utsrelease\.h; run make and make modules\)$/);
  bad({ symvers: false }, /: not built \(no Module\.symvers; run make and make modules\)$/);
  bad({ image: null }, /: no arch\/x86\/boot\/bzImage \(run make, or give --image FILE\)$/);
  bad({ image: '6.1.175 (old) #1' }, /: arch\/x86\/boot\/bzImage: is release 6\.1\.175, but the tree was built as 6\.1\.176/);
  bad({ order: false }, /: no modules\.order \(run make modules, or give --modules DIR of an installed tree\)$/);
  bad({}, /^InputError: --image .*missing: no such file$/, { image: path.join(tmp, 'missing') });
  bad({}, /^InputError: --modules .*: no lib\/modules\/6\.1\.176 \(the image's release\) in it$/, { modules: tmp });
  bad({ makefile: 'all:\n\ttrue\n' }, /: not a kernel tree \(its Makefile sets no VERSION\/PATCHLEVEL\)$/);
});

test("a tree that built test_kmod.ko and test_module.ko (CONFIG_TEST_KMOD=m, CONFIG_TEST_LKM=m): the tree's own, by modules.order", () => {
  const dir = makeTree(fresh());
  // as the real 6.1.176 tree's modules.order (data/calibration/from-build-6.1-testkmod.md) lists them
  assert.equal(readFileSync(path.join(dir, 'modules.order'), 'utf8'), 'fs/xfs/xfs.ko\nlib/test_kmod.ko\nlib/test_module.ko\n');
  const tree = readBuildTree(dir);
  assert.equal(builtModule(tree, 'test_kmod'), path.join(dir, 'lib', 'test_kmod.ko'));
  assert.equal(builtModule(tree, 'test_module'), path.join(dir, 'lib', 'test_module.ko'));
  assert.equal(builtModule(tree, 'kml_slow'), null);
  // a kbuild that lists the objects: the .ko beside the .o
  writeFileSync(path.join(dir, 'modules.order'), 'fs/xfs/xfs.o\nlib/test_kmod.o\n');
  assert.equal(builtModule(tree, 'test_kmod'), path.join(dir, 'lib', 'test_kmod.ko'));
  assert.equal(builtModule(tree, 'test_module'), null);
  writeFileSync(path.join(dir, 'modules.order'), 'fs/xfs/xfs.ko\nlib/test_kmod.ko\nlib/test_module.ko\n');
  const p = planFromBuild({ dir, userspace: 'bookworm' });
  assert.deepEqual([p.check.testKmod, p.check.testModule, p.check.lacking], ['tree', 'tree', []]);
  // without lib/test_*.c too: nothing is built out of tree, so the sources are not needed
  assert.equal(planFromBuild({ dir: makeTree(fresh(), { lib: false }), userspace: 'bookworm' }).check.testKmod, 'tree');
});

test('CONFIG_TEST_KMOD=m but the modules were not rebuilt: one line before anything is installed', () => {
  const dir = makeTree(fresh(), { built: ['test_module'] });
  assert.throws(() => planFromBuild({ dir, userspace: 'bookworm' }),
    /^InputError: --from-build .*: CONFIG_TEST_KMOD=m but the build made no test_kmod\.ko \(modules\.order does not list it: run make modules\)$/);
  // listed, but the .ko is gone (make clean of lib/, a make modules that stopped early)
  const gone = makeTree(fresh());
  rmSync(path.join(gone, 'lib', 'test_module.ko'));
  assert.throws(() => planFromBuild({ dir: gone, userspace: 'bookworm' }), /: CONFIG_TEST_LKM=m but the build made no test_module\.ko /);
});

test("--modules: an installed tree's test_kmod found by its modules.order, compressed or not", () => {
  const dir = makeTree(fresh());
  const inst = path.join(fresh(), 'lib', 'modules', '6.1.176');
  mkdirSync(path.join(inst, 'kernel', 'lib'), { recursive: true });
  writeFileSync(path.join(inst, 'modules.order'), 'kernel/fs/xfs/xfs.ko\nkernel/lib/test_kmod.ko\nkernel/lib/test_module.ko\n');
  writeFileSync(path.join(inst, 'kernel', 'lib', 'test_kmod.ko.xz'), '');
  writeFileSync(path.join(inst, 'kernel', 'lib', 'test_module.ko'), '');
  const tree = readBuildTree(dir, { modules: inst });
  assert.equal(builtModule(tree, 'test_kmod'), path.join(inst, 'kernel', 'lib', 'test_kmod.ko.xz'));
  assert.equal(builtModule(tree, 'test_module'), path.join(inst, 'kernel', 'lib', 'test_module.ko'));
  rmSync(path.join(inst, 'kernel', 'lib', 'test_kmod.ko.xz'));
  assert.throws(() => planFromBuild({ dir, modules: inst, userspace: 'bookworm' }), new RegExp(`^InputError: --modules ${inst}: CONFIG_TEST_KMOD=m but ${inst} holds no test_kmod\\.ko$`));
});

test("the tree's own test module is copied as installed (plain or .ko.xz, found by modules.dep); one with dependencies is refused", async () => {
  const modRoot = fresh();
  mkdirSync(path.join(modRoot, 'kernel', 'lib'), { recursive: true });
  mkdirSync(path.join(modRoot, 'updates'), { recursive: true });
  const elf = Buffer.from('\x7fELF test_kmod stand-in', 'latin1');
  writeFileSync(path.join(modRoot, 'kernel', 'lib', 'test_kmod.ko'), elf);
  writeFileSync(path.join(modRoot, 'updates', 'test_module.ko'), Buffer.concat([elf, Buffer.from(' module')]));
  execFileSync('xz', ['--check=crc32', path.join(modRoot, 'updates', 'test_module.ko')]);
  writeFileSync(path.join(modRoot, 'modules.dep'), 'kernel/lib/test_kmod.ko:\nupdates/test_module.ko.xz:\nkernel/lib/test_bpf.ko: kernel/fs/xfs/xfs.ko\n');
  const out = fresh();
  mkdirSync(out);
  await copyTreeModule(modRoot, 'test_kmod', path.join(out, 'test_kmod.ko'));
  assert.deepEqual(readFileSync(path.join(out, 'test_kmod.ko')), elf);
  await copyTreeModule(modRoot, 'test_module', path.join(out, 'test_module.ko'));
  assert.deepEqual(readFileSync(path.join(out, 'test_module.ko')), Buffer.concat([elf, Buffer.from(' module')]));
  await assert.rejects(copyTreeModule(modRoot, 'test_bpf', path.join(out, 'x.ko')), /^Error: test_bpf\.ko: the tree's own depends on xfs; the guest loads it without them$/);
  await assert.rejects(copyTreeModule(modRoot, 'kml_slow', path.join(out, 'x.ko')), /kml_slow\.ko: the \.config builds it \(=m\) but .*modules\.dep does not list it$/);
  assert.equal(existsSync(path.join(out, 'x.ko')), false);
});

