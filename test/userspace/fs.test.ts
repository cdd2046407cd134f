import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KFile, ModuleImage } from '../../src/kernel/api.js';
import { EACCES, ENOENT } from '../../src/kernel/errno.js';
import { ModuleFs } from '../../src/userspace/fs.js';
import type { ModuleInfo } from '../../src/userspace/moduleset.js';

const image = (name: string): ModuleImage => ({ name, imageSize: 100, signed: false, symbolDeps: [], behaviour: { initCpuNs: 0, initSleepNs: 0, initResult: 0 } });

test('hard links share the inode, a copy gets a new one, symlinks resolve', () => {
  const fs = new ModuleFs();
  const a = fs.addModuleFile('/lib/modules/r/a.ko', { size: 10, compression: 'none', image: image('a') });
  assert.equal(fs.link('/lib/modules/r/a.ko', '/tmp/a-link.ko'), 0);
  assert.equal(fs.copy('/lib/modules/r/a.ko', '/tmp/a-copy.ko'), 0);
  fs.symlink('/lib/modules/r/a.ko', '/tmp/a-sym.ko');
  fs.symlink('a.ko', '/lib/modules/r/rel.ko');
  const open = (p: string) => fs.open(p) as KFile;
  assert.equal(open('/tmp/a-link.ko').inode, a.inode);
  assert.equal(open('/tmp/a-sym.ko').inode, a.inode);
  assert.equal(open('/lib/modules/r/rel.ko').inode, a.inode);
  assert.notEqual(open('/tmp/a-copy.ko').inode, a.inode);
  assert.equal(open('/tmp/a-link.ko').path, '/tmp/a-link.ko');
  assert.equal(fs.open('/nope'), -ENOENT);
  assert.equal(fs.link('/nope', '/x'), -ENOENT);
  fs.symlink('/loop2', '/loop1');
  fs.symlink('/loop1', '/loop2');
  assert.equal(fs.open('/loop1'), -40);
  assert.equal(fs.unlink('/tmp/a-link.ko'), 0);
  assert.equal(fs.open('/tmp/a-link.ko'), -ENOENT);
  assert.equal(open('/lib/modules/r/a.ko').inode, a.inode, 'other names survive');
});

test('lazy module trees: inodes fixed up front, images made once', () => {
  const fs = new ModuleFs();
  let made = 0;
  const infos: ModuleInfo[] = ['x', 'y'].map((n) => ({ name: n, path: `kernel/${n}.ko.xz`, fileSize: 5, compression: 'xz', imageSize: 9, signed: true, deps: [], softdeps: { pre: [], post: [] } }));
  fs.addModuleTree('/lib/modules/r', infos, (i) => {
    made++;
    return image(i.name);
  });
  const y = fs.open('/lib/modules/r/kernel/y.ko.xz') as KFile;
  const x = fs.open('/lib/modules/r/kernel/x.ko.xz') as KFile;
  assert.equal(y.inode, x.inode + 1);
  assert.equal(x.compression, 'xz');
  assert.equal((fs.open('/lib/modules/r/kernel/x.ko.xz') as KFile).image, x.image);
  assert.equal(made, 2);
});

test('exec targets: programs, missing paths, files without x', () => {
  const fs = new ModuleFs();
  // eslint-disable-next-line require-yield
  const prog = function* () {
    return 0;
  };
  fs.addProgram('/bin/kmod', prog);
  fs.addProgram('/bin/noexec', prog, { executable: false });
  fs.symlink('/bin/kmod', '/sbin/modprobe');
  assert.equal(fs.execTarget('/sbin/modprobe'), prog);
  assert.equal(fs.execTarget('/KMOD_TEST_NONEXISTENT'), -ENOENT);
  assert.equal(fs.execTarget(''), -ENOENT);
  assert.equal(fs.execTarget('/bin/noexec'), -EACCES);
  fs.addModuleFile('/m.ko', { size: 1, compression: 'none', image: image('m') });
  assert.equal(fs.execTarget('/m.ko'), -EACCES);
});
