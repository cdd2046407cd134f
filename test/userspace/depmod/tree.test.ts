/**
 * DOC: reading a whole /lib/modules/<release> tree that the test builds in a temp dir: real ELF
 * images (built by test/fixtures/modules/build-ko.ts) stored plain, signed, gzip-, xz- and
 * zstd-compressed (xz and zstd with the host tools; skipped only when those are absent).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { InputError } from '../../../src/errors.js';
import { readKoFile } from '../../../src/userspace/depmod/kofile.js';
import { readModulesDir } from '../../../src/userspace/depmod/tree.js';
import { loadModuleSet } from '../../../src/userspace/depmod/snapshot.js';
import { appendSignature, buildKo, DEFAULT_EXPECTED } from '../../fixtures/modules/build-ko.js';

const hasTool = (t: string): boolean => spawnSync(t, ['--version'], { stdio: 'ignore' }).status === 0;

function compressWith(tool: string, args: string[], data: Buffer): Buffer {
  const r = spawnSync(tool, args, { input: data, maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, `${tool} failed`);
  return r.stdout;
}

function makeTree(): { dir: string; plain: Buffer; signed: Buffer } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kmodlab-tree-'));
  const plain = buildKo();
  const signed = appendSignature(plain, 321);
  const w = (rel: string, data: Buffer | string): void => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), data);
  };
  w('kernel/fs/xfs/xfs.ko', signed);
  w('kernel/lib/libcrc32c.ko', plain);
  w('kernel/crypto/crc32c_generic.ko.gz', zlib.gzipSync(signed));
  const dep = ['kernel/fs/xfs/xfs.ko: kernel/lib/libcrc32c.ko', 'kernel/lib/libcrc32c.ko:', 'kernel/crypto/crc32c_generic.ko.gz:'];
  if (hasTool('xz')) {
    w('kernel/arch/x86/kvm/kvm-intel.ko.xz', compressWith('xz', ['--check=crc32', '-c'], signed));
    dep.push('kernel/arch/x86/kvm/kvm-intel.ko.xz:');
  }
  if (hasTool('zstd')) {
    w('kernel/arch/x86/crypto/aesni-intel.ko.zst', compressWith('zstd', ['-q', '-c'], plain));
    dep.push('kernel/arch/x86/crypto/aesni-intel.ko.zst:');
  }
  w('modules.dep', `${dep.join('\n')}\n`);
  w('modules.alias', 'alias fs-xfs xfs\nalias crc32c crc32c_generic\nalias cpu:type:x86,ven*fam*mod*:feature:*0085* kvm_intel\n');
  w('modules.softdep', 'softdep libcrc32c pre: crc32c\n');
  w('modules.builtin', 'kernel/fs/ext4/ext4.ko\n');
  w('modules.order', 'kernel/fs/xfs/xfs.ko\nkernel/lib/libcrc32c.ko\n');
  w('modules.symbols', 'alias symbol:crc32c libcrc32c\n');
  w('modules.builtin.modinfo', Buffer.from('ext4.license=GPL\0ext4.alias=fs-ext4\0ipv6.alias=net-pf-10\0'));
  return { dir, plain, signed };
}

test('reads a small tree: sizes, compression, signature, sections, deps, softdeps', async () => {
  const { dir, plain, signed } = makeTree();
  try {
    const set = await readModulesDir(dir, { release: '6.1.0-test' });
    assert.equal(set.release, '6.1.0-test');
    const xfs = set.modules.get('xfs')!;
    assert.equal(xfs.fileSize, signed.length);
    assert.equal(xfs.imageSize, plain.length);
    assert.equal(xfs.signed, true);
    assert.equal(xfs.compression, 'none');
    assert.deepEqual(xfs.sections, DEFAULT_EXPECTED);
    assert.deepEqual(xfs.deps, ['libcrc32c']);
    const lib = set.modules.get('libcrc32c')!;
    assert.equal(lib.signed, false);
    assert.equal(lib.imageSize, plain.length);
    assert.deepEqual(lib.softdeps, { pre: ['crc32c'], post: [] });
    const gz = set.modules.get('crc32c_generic')!;
    assert.equal(gz.compression, 'gzip');
    assert.ok(gz.fileSize < signed.length);
    assert.equal(gz.imageSize, plain.length);
    assert.equal(gz.signed, true);
    assert.deepEqual(gz.sections, DEFAULT_EXPECTED);
    assert.deepEqual([...set.builtin], ['ext4']);
    assert.deepEqual(set.order, ['xfs', 'libcrc32c']);
    assert.equal(set.aliases.length, 3);
    assert.deepEqual([...set.symbols!], [['symbol:crc32c', 'libcrc32c']]);
    assert.deepEqual(set.builtinAliases, [{ pattern: 'fs-ext4', module: 'ext4' }, { pattern: 'net-pf-10', module: 'ipv6' }]);
    // --modules DIR goes through the same reader
    const viaLoad = await loadModuleSet({ modulesDir: dir });
    assert.equal(viaLoad.modules.size, set.modules.size);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('xz-compressed module (host xz)', { skip: !hasTool('xz') && 'no xz on this host' }, async () => {
  const { dir, plain } = makeTree();
  try {
    const set = await readModulesDir(dir);
    const m = set.modules.get('kvm_intel')!;
    assert.equal(m.compression, 'xz');
    assert.equal(m.imageSize, plain.length);
    assert.equal(m.signed, true);
    assert.deepEqual(m.sections, DEFAULT_EXPECTED);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('zstd-compressed module (host zstd)', { skip: !hasTool('zstd') && 'no zstd on this host' }, async () => {
  const { dir, plain } = makeTree();
  try {
    const m = (await readModulesDir(dir)).modules.get('aesni_intel')!;
    assert.equal(m.compression, 'zstd');
    assert.equal(m.imageSize, plain.length);
    assert.equal(m.signed, false);
    assert.deepEqual(m.sections, DEFAULT_EXPECTED);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('bad trees and files: one-line InputErrors naming the file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kmodlab-bad-'));
  try {
    await assert.rejects(readModulesDir(dir), (e: unknown) => e instanceof InputError && /modules\.dep: not found/.test(e.message));
    fs.writeFileSync(path.join(dir, 'modules.dep'), 'kernel/a.ko:\n');
    await assert.rejects(readModulesDir(dir), (e: unknown) => e instanceof InputError && /a\.ko: cannot open: ENOENT/.test(e.message));
    const trunc = buildKo().subarray(0, 200);
    fs.mkdirSync(path.join(dir, 'kernel'));
    fs.writeFileSync(path.join(dir, 'kernel/a.ko'), trunc);
    await assert.rejects(readModulesDir(dir), (e: unknown) => e instanceof InputError && /a\.ko: truncated ELF image: section header table/.test(e.message) && !e.message.includes('\n'));
    fs.writeFileSync(path.join(dir, 'kernel/b.ko.xz'), buildKo());
    await assert.rejects(readKoFile(path.join(dir, 'kernel/b.ko.xz')), /b\.ko\.xz: named as xz but the data is not compressed/);
    fs.writeFileSync(path.join(dir, 'kernel/c.ko.gz'), Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(30, 7)]));
    await assert.rejects(readKoFile(path.join(dir, 'kernel/c.ko.gz')), /c\.ko\.gz: cannot decompress gzip data/);
    await assert.rejects(readModulesDir(path.join(dir, 'nope')), /nope: no such directory/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
