/**
 * DOC: the depmod text readers on small hand-written files, and their one-line errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../../../src/errors.js';
import { parseModulesAlias } from '../../../src/userspace/depmod/alias.js';
import { parseModulesBuiltin, parseModulesOrder } from '../../../src/userspace/depmod/builtin.js';
import { parseModulesDep } from '../../../src/userspace/depmod/dep.js';
import { modNameFromPath, normaliseName } from '../../../src/userspace/depmod/names.js';
import { parseModulesSoftdep } from '../../../src/userspace/depmod/softdep.js';
import { parseModulesSymbols } from '../../../src/userspace/depmod/symbols.js';
import { parseModulesBuiltinModinfo } from '../../../src/userspace/depmod/builtin-modinfo.js';

test('module names from paths', () => {
  assert.equal(modNameFromPath('kernel/arch/x86/kvm/kvm-intel.ko'), 'kvm_intel');
  assert.equal(modNameFromPath('kernel/fs/xfs/xfs.ko.xz'), 'xfs');
  assert.equal(modNameFromPath('kernel/lib/crc-t10dif.ko.zst'), 'crc_t10dif');
  assert.equal(modNameFromPath('/opt/extra/foo-bar.ko.gz'), 'foo_bar');
  assert.equal(normaliseName('a-b[x-y]-c'), 'a_b[x-y]_c');
});

test('modules.dep: names, paths, deps in file order', () => {
  const m = parseModulesDep(
    '# comment\nkernel/arch/x86/kvm/kvm-intel.ko: kernel/arch/x86/kvm/kvm.ko kernel/virt/lib/irqbypass.ko\n' +
      'kernel/virt/lib/irqbypass.ko:\n\nkernel/arch/x86/kvm/kvm.ko: kernel/virt/lib/irqbypass.ko\n',
  );
  assert.deepEqual([...m.keys()], ['kvm_intel', 'irqbypass', 'kvm']);
  assert.deepEqual(m.get('kvm_intel'), { name: 'kvm_intel', path: 'kernel/arch/x86/kvm/kvm-intel.ko', deps: ['kvm', 'irqbypass'] });
  assert.deepEqual(m.get('irqbypass')!.deps, []);
});

test('modules.dep errors name the file and line', () => {
  assert.throws(() => parseModulesDep('a.ko:\nno colon here\n', 'T/modules.dep'), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.match(e.message, /^T\/modules\.dep:2: expected "PATH: DEPS"/);
    assert.equal(e.message.split('\n').length, 1);
    return true;
  });
  assert.throws(() => parseModulesDep('a.ko: b.txt\n'), /modules\.dep:1: dependency "b\.txt" is not a module path/);
  assert.throws(() => parseModulesDep('a.ko:\n\0\n'), /modules\.dep:2: control character 0x00/);
});

test('modules.alias: patterns kept, module names normalised', () => {
  const a = parseModulesAlias('# Aliases extracted from modules themselves.\nalias fs-xfs xfs\nalias pci:v*d*sv*sd*bc01sc06i01* ahci\nalias x kvm-intel\n');
  assert.deepEqual(a, [
    { pattern: 'fs-xfs', module: 'xfs' },
    { pattern: 'pci:v*d*sv*sd*bc01sc06i01*', module: 'ahci' },
    { pattern: 'x', module: 'kvm_intel' },
  ]);
  assert.throws(() => parseModulesAlias('alias a\n', 'M'), /M:1: expected 3 fields, found 2/);
  assert.throws(() => parseModulesAlias('alias a b\nfoo a b\n', 'M'), /M:2: expected "alias PATTERN MODULE"/);
});

test('modules.softdep: pre and post, stray words ignored, only the first line of a module counts', () => {
  const s = parseModulesSoftdep('softdep libcrc32c pre: crc32c\nsoftdep cifs gcm\nsoftdep cifs pre: ccm post: sha512 md4\nsoftdep ext4 pre: crypto-crc32c\nsoftdep ext4 pre: nope\nsoftdep xfs post: a pre: b c\n');
  assert.deepEqual(s.get('libcrc32c'), { pre: ['crc32c'], post: [] });
  // kmod_module_get_softdeps stops at the first matching line: cifs's first has no "pre:"/"post:"
  assert.deepEqual(s.get('cifs'), { pre: [], post: [] });
  assert.deepEqual(s.get('xfs'), { pre: ['b', 'c'], post: ['a'] });
  assert.deepEqual(s.get('ext4'), { pre: ['crypto_crc32c'], post: [] });
  assert.throws(() => parseModulesSoftdep('softdep\n', 'S'), /S:1: missing module name/);
  assert.throws(() => parseModulesSoftdep('options foo bar=1\n', 'S'), /S:1: expected "softdep/);
});

test('modules.builtin and modules.order', () => {
  assert.deepEqual([...parseModulesBuiltin('kernel/arch/x86/crypto/libblake2s-x86_64.ko\nkernel/fs/ext4/ext4.ko\n')], ['libblake2s_x86_64', 'ext4']);
  assert.deepEqual(parseModulesOrder('kernel/fs/xfs/xfs.ko\nkernel/lib/libcrc32c.ko\n'), ['xfs', 'libcrc32c']);
  assert.throws(() => parseModulesOrder('kernel/fs/xfs/xfs.o\n', 'O'), /O:1: expected one module path/);
});

test('modules.symbols: symbol:NAME → module, the first owner kept; other aliases rejected', () => {
  const s = parseModulesSymbols('# Aliases for symbols, used by symbol_request().\nalias symbol:crc_t10dif crc-t10dif\nalias symbol:x a\nalias symbol:x b\n');
  assert.deepEqual([...s], [['symbol:crc_t10dif', 'crc_t10dif'], ['symbol:x', 'a']]);
  assert.throws(() => parseModulesSymbols('alias fs-xfs xfs\n', 'S'), /S: expected "alias symbol:NAME MODULE", found alias "fs-xfs"/);
});

test('modules.builtin.modinfo: the alias records of NUL-separated MODNAME.KEY=VALUE, in file order', () => {
  const data = Buffer.from('ipv6.license=GPL\0ipv6.alias=net-pf-10\0zbud.alias=zpool-zbud\0dh_generic.alias=crypto-dh\0x.alias=\0dh_generic.alias=dh\0\0');
  assert.deepEqual(parseModulesBuiltinModinfo(data), [
    { pattern: 'net-pf-10', module: 'ipv6' },
    { pattern: 'zpool-zbud', module: 'zbud' },
    { pattern: 'crypto-dh', module: 'dh_generic' },
    { pattern: 'dh', module: 'dh_generic' },
  ]);
  assert.throws(() => parseModulesBuiltinModinfo('ipv6.alias=net-pf-10\0garbage\0', 'B'), /^InputError: B: record 2 \(byte 21\): expected "MODNAME.KEY=VALUE": "garbage"$/);
});
