/**
 * DOC: `kmodlab kernel prepare --from-build` on bad input, in the bad-input table's style
 * (bad-inputs.test.ts): each row is the argv, exit 2 and the one line on stderr; nothing on
 * stdout, no stack trace, and nothing written to the cache ($KMODLAB_CACHE is never created).
 * The trees are shaped by from-build-tree.helpers.ts with a real .config.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from './run-cli.js';
import { DEBIAN_CONFIG, kconfig, makeTree } from '../targets/qemu/from-build-tree.helpers.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'kmodlab-fbbad-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const cache = path.join(tmp, 'cache');

makeTree(path.join(tmp, 'good'));
makeTree(path.join(tmp, 'noconfig'), { config: null });
makeTree(path.join(tmp, 'unbuilt'), { uts: null, symvers: false, image: null });
makeTree(path.join(tmp, 'noimage'), { image: null });
makeTree(path.join(tmp, 'nounload'), { config: kconfig(DEBIAN_CONFIG).replace('CONFIG_MODULE_UNLOAD=y', '# CONFIG_MODULE_UNLOAD is not set') });
makeTree(path.join(tmp, 'nolib'), { config: kconfig(DEBIAN_CONFIG), lib: false });
mkdirSync(path.join(tmp, 'empty'));
writeFileSync(path.join(tmp, 'afile'), 'x');

const rows: [string[], RegExp][] = [
  [['--from-build', 'missing'], /^kmodlab: --from-build missing: no such directory$/],
  [['--from-build', 'afile'], /^kmodlab: --from-build afile: not a directory$/],
  [['--from-build', 'empty'], /^kmodlab: --from-build empty: not a kernel tree \(no Makefile\)$/],
  [['--from-build', 'noconfig'], /^kmodlab: --from-build noconfig: no \.config \(configure and build the kernel first: make defconfig && make\)$/],
  [['--from-build', 'unbuilt'], /^kmodlab: --from-build unbuilt: not built \(no include\/generated\/utsrelease\.h; run make and make modules\)$/],
  [['--from-build', 'noimage'], /^kmodlab: --from-build noimage: no arch\/x86\/boot\/bzImage \(run make, or give --image FILE\)$/],
  [['--from-build', 'good', '--image', 'afile'], /^kmodlab: --image afile: not an x86 bzImage \(no boot-protocol header\)$/],
  [['--from-build', 'good', '--modules', 'missing'], /^kmodlab: --modules missing: no such directory$/],
  [['--from-build', 'nounload'], /^kmodlab: --from-build nounload: \.config: CONFIG_MODULE_UNLOAD is not set, want =y \(kmod\.sh and the storms remove modules \(rmmod\)\)$/],
  [['--from-build', 'nolib'], /^kmodlab: --from-build nolib: CONFIG_TEST_KMOD is not =m and the tree has no lib\/test_kmod\.c to build it from$/],
  [['--from-build', 'good', '--name', 'debian-6.1'], /^kmodlab: --name debian-6\.1: a built-in kernel has this name; choose another$/],
  [['--from-build', 'good', '--name', 'a/b'], /^kmodlab: --name a\/b: want letters, digits/],
  [['--from-build', 'good', '--preset', 'v9.9'], /^kmodlab: --preset: unknown preset 'v9\.9' \(known: v4\.9, /],
  [['--from-build', 'good', '--userspace', 'Bad Suite'], /^kmodlab: --userspace Bad Suite: not a Debian suite name/],
  [['--from-build', 'good', 'debian-6.1'], /^kmodlab: kernel prepare: debian-6\.1: give kernel names or --from-build DIR, not both$/],
  [['debian-6.1', '--name', 'x'], /^kmodlab: --name: only with --from-build DIR$/],
  [['debian-6.1', '--modules', 'empty'], /^kmodlab: --modules: only with --from-build DIR$/],
  [[], /^kmodlab: missing required argument 'names'$/],
  [['no-such-kernel'], /^kmodlab: kernel "no-such-kernel": unknown \(known: debian-6\.1, /],
];

for (const [args, line] of rows) {
  test(`kernel prepare ${args.join(' ')}`, async () => {
    const r = await runCli(['kernel', 'prepare', ...args], { cwd: tmp, env: { KMODLAB_CACHE: cache } });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.split('\n').length, 2, r.stderr);
    assert.match(r.stderr.trimEnd(), line);
    assert.ok(!existsSync(cache), 'the cache was written');
  });
}

test('selftest and storm on an unknown qemu name say how to make one', async () => {
  for (const argv of [['selftest', '--target', 'qemu:nosuch', '-t', '0001'], ['storm', '--target', 'qemu:nosuch', '--parallel', '2']]) {
    const r = await runCli(argv, { cwd: tmp, env: { KMODLAB_CACHE: cache } });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^kmodlab: kernel "nosuch": unknown \(known: debian-6\.1, .*, or a name from `kmodlab kernel prepare --from-build DIR`\)\n$/);
  }
});
