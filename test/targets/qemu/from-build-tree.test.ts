/**
 * DOC: reading a build tree for --from-build: the release from the image's boot-protocol header,
 * the version from the Makefile (through a headers tree's include), the default name, the
 * preset and suite choices, and every way a tree can be unfit — each one InputError line.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkKernelName, imageVersionString, makefileVersion, nameFromRelease, readBuildTree, utsRelease } from '../../../src/targets/qemu/from-build-tree.js';
import { hostSuite, planFromBuild } from '../../../src/targets/qemu/from-build.js';
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
