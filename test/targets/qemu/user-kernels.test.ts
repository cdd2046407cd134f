/**
 * DOC: a kernel prepared --from-build is resolvable by name wherever qemu:NAME is taken (its
 * sim model read from its prepared.json), listed by `kernel list`, and never shadows or
 * changes the built-in list.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KERNELS, kernelSpec } from '../../../src/targets/qemu/kernels.js';
import { parseQemuTargetName } from '../../../src/targets/qemu/target.js';
import { fromBuildKernels, resolveKernelSpec } from '../../../src/targets/qemu/user-kernels.js';
import { runCli } from '../../cli/run-cli.js';

const cache = mkdtempSync(path.join(tmpdir(), 'kmodlab-userk-'));
after(() => rmSync(cache, { recursive: true, force: true }));

/** what prepareFromBuild leaves in CACHE/kernels/NAME/prepared.json (the fields read here) */
function preparedJson(name: string, extra: object): void {
  const dir = path.join(cache, 'kernels', name);
  mkdirSync(dir, { recursive: true });
  const record = {
    name, release: '6.1.176', version: '6.1.176', suite: 'bookworm', simPreset: 'v6.1-stable', compressedModules: false,
    dir, vmlinuz: path.join(dir, 'vmlinuz'), initramfs: path.join(dir, 'initramfs.cpio.gz'), kmodVersion: 30,
    moduleDeps: {}, stormFiles: {}, packages: {}, stamp: 'x', inputStamp: 'y', ...extra,
  };
  writeFileSync(path.join(dir, 'prepared.json'), JSON.stringify(record));
}

const sim = { preset: 'v6.1-stable', machine: 'qemu-tcg', snapshot: 'debian-6.1', moduleCompression: null, kmodVersion: 30 };
preparedJson('6.1.176', {
  origin: 'build',
  sim,
  build: { tree: '/src/linux', image: '/src/linux/arch/x86/boot/bzImage', modules: null, kernelVersion: '6.1.176', presetReason: 'x', userspaceSuite: 'bookworm', config: {} },
});
// a Debian kernel's record (no origin) under a name that is not built in: not a from-build kernel
preparedJson('stray', {});

test('a from-build kernel resolves from its record; the built-in ones as before', () => {
  const k = resolveKernelSpec('6.1.176', cache);
  assert.deepEqual(k, { name: '6.1.176', suite: 'bookworm', sourceSeries: '6.1', compressedModules: false, toolchain: 'host', sim, simPreset: 'v6.1-stable' });
  assert.equal(parseQemuTargetName('qemu:6.1.176', cache), '6.1.176');
  assert.equal(resolveKernelSpec('debian-6.1', cache), kernelSpec('debian-6.1'));
  assert.throws(() => resolveKernelSpec('stray', cache), /^InputError: kernel "stray": unknown \(known: debian-6\.1, .*, or a name from `kmodlab kernel prepare --from-build DIR`\)$/);
  assert.throws(() => parseQemuTargetName('qemu:../6.1.176', cache), /unknown/);
  assert.ok(!KERNELS.some((s) => s.name === '6.1.176'));
  assert.deepEqual(fromBuildKernels(cache).map((p) => p.name), ['6.1.176']);
});

test('kernel list shows it after the built-in kernels', async () => {
  const r = await runCli(['kernel', 'list', '--cache', cache]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.deepEqual(lines.slice(0, KERNELS.length).map((l) => l.split('\t')[0]), KERNELS.map((k) => k.name));
  assert.equal(lines[KERNELS.length], '6.1.176\tfrom-build\t6.1.176\t6.1.176\t/src/linux');
  assert.equal(lines[KERNELS.length + 1], `cache: ${cache}`);
});

test('kernel prepare NAME of a from-build kernel says how to prepare it again', async () => {
  const r = await runCli(['kernel', 'prepare', '6.1.176', '--cache', cache]);
  assert.equal(r.status, 2);
  assert.equal(r.stderr, 'kmodlab: kernel "6.1.176": prepared from a build tree; prepare it again with --from-build DIR\n');
});
