/**
 * DOC: the --from-build .config check against real configurations: Debian's 6.1.0-50-amd64
 * (/boot/config-6.1.0-50-amd64 of linux-image-6.1.0-50-amd64-unsigned 6.1.176-1, which has no
 * CONFIG_TEST_KMOD / CONFIG_TEST_LKM) and Kconfig's output for linux-source-6.1 6.1.176 with
 * `make x86_64_defconfig kvm_guest.config` and the selftest's fragment as modules; and the tree
 * prepared and booted for data/calibration/from-build-6.1.176.md (`make ARCH=x86_64 tinyconfig`
 * plus what the guest needs, TEST_LKM=m and XFS_FS=m, no TEST_KMOD, no networking); and that
 * tree's successor with networking, ACPI and the whole fragment, TEST_KMOD=m included
 * (data/calibration/from-build-6.1-testkmod.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { checkKernelConfig, lackingLine, parseKernelConfig, treeModulesLine } from '../../../src/targets/qemu/from-build-config.js';

const FIXTURES = fileURLToPath(new URL('../../../../test/fixtures/kconfig/', import.meta.url));
const config = (f: string) => gunzipSync(readFileSync(FIXTURES + f)).toString('utf8');
const DEBIAN = config('debian-6.1.0-50-amd64.config.gz');
const TINY = config('tinyconfig-from-build-6.1.176.config.gz');
const DEFCONFIG = config('x86_64_defconfig-kvm_guest-kmod_fragment-6.1.176.config.gz');
const TINY_NET = config('tinyconfig-net-testkmod-6.1.176.config.gz');

test('parse: values, strings without quotes, "is not set" as n', () => {
  const c = parseKernelConfig(DEBIAN);
  assert.equal(c.get('CONFIG_MODULES'), 'y');
  assert.equal(c.get('CONFIG_XFS_FS'), 'm');
  assert.equal(c.get('CONFIG_TEST_KMOD'), 'n');
  assert.equal(c.get('CONFIG_CC_VERSION_TEXT'), 'gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0');
  assert.equal(c.get('CONFIG_NO_SUCH_OPTION'), undefined);
});

test("Debian 6.1's config boots the guest but lacks TEST_KMOD and TEST_LKM: both built out of tree", () => {
  const r = checkKernelConfig(parseKernelConfig(DEBIAN));
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.lacking, ['CONFIG_TEST_KMOD', 'CONFIG_TEST_LKM']);
  assert.equal(r.testKmod, 'out-of-tree');
  assert.equal(r.testModule, 'out-of-tree');
  // Debian 6.1 ships plain modules and cannot decompress in the kernel (kernels.ts)
  assert.equal(r.moduleCompression, null);
  assert.equal(r.inKernelDecompress, false);
  assert.equal(
    lackingLine(r),
    "the selftest's config fragment wants CONFIG_TEST_KMOD=m (test_kmod built out of tree from lib/test_kmod.c), CONFIG_TEST_LKM=m (test_module built out of tree from lib/test_module.c); this build lacks them",
  );
  assert.equal(treeModulesLine(r), null);
});

test('defconfig with the whole fragment as modules: the tree builds test_kmod and test_module', () => {
  const r = checkKernelConfig(parseKernelConfig(DEFCONFIG));
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.lacking, []);
  assert.deepEqual(r.notes, []);
  assert.equal(r.testKmod, 'tree');
  assert.equal(r.testModule, 'tree');
  assert.equal(lackingLine(r), null);
  assert.equal(treeModulesLine(r), "test_kmod.ko and test_module.ko: the tree's own (CONFIG_TEST_KMOD=m, CONFIG_TEST_LKM=m), as installed by the build");
});

test('the tiny tree: test_module from the tree, test_kmod out of tree, BTRFS_FS and TUN stated as lacking', () => {
  const r = checkKernelConfig(parseKernelConfig(TINY));
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.lacking, ['CONFIG_TEST_KMOD', 'CONFIG_BTRFS_FS', 'CONFIG_TUN']);
  assert.deepEqual([r.testKmod, r.testModule], ['out-of-tree', 'tree']);
  assert.deepEqual(r.notes, ["CONFIG_ACPI is not set: the guest will see one CPU whatever --cpus says (QEMU's MP table lists one)"]);
  assert.equal(treeModulesLine(r), "test_module.ko: the tree's own (CONFIG_TEST_LKM=m), as installed by the build");
  assert.match(lackingLine(r)!, /CONFIG_BTRFS_FS=m \(not used by the tests kmodlab runs\), CONFIG_TUN=m \(not used by the tests kmodlab runs\); this build lacks them$/);
});

test('the tiny tree with networking and the whole fragment: both test modules from the tree, nothing lacking, ACPI for the CPUs', () => {
  const c = parseKernelConfig(TINY_NET);
  // what TEST_KMOD depends on (NETDEVICES, NET_CORE, INET, BLOCK) and selects (TUN, BTRFS_FS, XFS_FS, TEST_LKM)
  for (const [o, v] of [['CONFIG_NET', 'y'], ['CONFIG_INET', 'y'], ['CONFIG_NETDEVICES', 'y'], ['CONFIG_NET_CORE', 'y'], ['CONFIG_BLOCK', 'y'], ['CONFIG_ACPI', 'y'], ['CONFIG_IPV6', 'n']] as const)
    assert.equal(c.get(o), v, o);
  const r = checkKernelConfig(c);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.lacking, []);
  assert.deepEqual(r.notes, []);
  assert.deepEqual([r.testKmod, r.testModule], ['tree', 'tree']);
  assert.equal(lackingLine(r), null);
  assert.equal(treeModulesLine(r), "test_kmod.ko and test_module.ko: the tree's own (CONFIG_TEST_KMOD=m, CONFIG_TEST_LKM=m), as installed by the build");
  assert.deepEqual([r.moduleCompression, r.inKernelDecompress], [null, false]);
});

/** the real config with one line changed */
function edited(text: string, option: string, line: string): string {
  const re = new RegExp(`^(# )?${option}[= ].*$`, 'm');
  assert.match(text, re, option);
  return text.replace(re, line);
}

test('a missing requirement is named with what needs it; several go on one line', () => {
  const noUnload = checkKernelConfig(parseKernelConfig(edited(DEFCONFIG, 'CONFIG_MODULE_UNLOAD', '# CONFIG_MODULE_UNLOAD is not set')));
  assert.deepEqual(noUnload.errors, ['CONFIG_MODULE_UNLOAD is not set, want =y (kmod.sh and the storms remove modules (rmmod))']);
  let two = edited(DEBIAN, 'CONFIG_XFS_FS', 'CONFIG_XFS_FS=y');
  two = edited(two, 'CONFIG_DEVTMPFS', '# CONFIG_DEVTMPFS is not set');
  const r = checkKernelConfig(parseKernelConfig(two));
  assert.deepEqual(r.errors.map((e) => /^CONFIG_\w+/.exec(e)![0]), ['CONFIG_DEVTMPFS', 'CONFIG_XFS_FS']);
  assert.match(r.errors[1]!, /^CONFIG_XFS_FS=y, want =m \(/);
  // an option absent from the file altogether (MODULES=n hides its sub-options) counts as unset
  const noModules = checkKernelConfig(parseKernelConfig(DEFCONFIG.replace(/^CONFIG_MODULE_UNLOAD=y$/m, '')));
  assert.match(noModules.errors[0]!, /^CONFIG_MODULE_UNLOAD is not set/);
});

test('built-in test_kmod or test_module, and forced signatures, are refused', () => {
  const builtIn = checkKernelConfig(parseKernelConfig(edited(DEFCONFIG, 'CONFIG_TEST_KMOD', 'CONFIG_TEST_KMOD=y')));
  assert.deepEqual(builtIn.errors, ['CONFIG_TEST_KMOD=y, want =m or unset (built in, the selftest cannot load or remove it)']);
  const forced = checkKernelConfig(parseKernelConfig(edited(DEBIAN, 'CONFIG_MODULE_SIG_FORCE', 'CONFIG_MODULE_SIG_FORCE=y')));
  assert.deepEqual(forced.errors, ['CONFIG_MODULE_SIG_FORCE=y, want it unset (the out-of-tree test modules are unsigned)']);
});

test('module compression and in-kernel decompression are read off the config', () => {
  let xz = edited(DEFCONFIG, 'CONFIG_MODULE_COMPRESS_NONE', '# CONFIG_MODULE_COMPRESS_NONE is not set');
  xz = `${xz}CONFIG_MODULE_COMPRESS_XZ=y\nCONFIG_MODULE_DECOMPRESS=y\n`;
  const r = checkKernelConfig(parseKernelConfig(xz));
  assert.equal(r.moduleCompression, 'xz');
  assert.equal(r.inKernelDecompress, true);
});
