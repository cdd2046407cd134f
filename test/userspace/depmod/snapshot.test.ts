/**
 * DOC: facts the shipped Debian snapshots must keep (they are what every simulation runs on).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lookupAlias } from '../../../src/userspace/depmod/alias.js';
import { fromSnapshotJson, loadSnapshot, toSnapshotJson } from '../../../src/userspace/depmod/snapshot.js';
import { loadMachine } from '../../../src/userspace/machines/load.js';
import { cpuModalias } from '../../../src/userspace/machines/modalias.js';

test('debian-6.1: size and shape', () => {
  const s = loadSnapshot('debian-6.1');
  assert.match(s.release, /^6\.1\.0-\d+-amd64$/);
  assert.ok(s.modules.size > 3900 && s.modules.size < 4200, `${s.modules.size} modules`);
  assert.ok(s.aliases.length > 25000);
  const all = [...s.modules.values()];
  assert.ok(all.every((m) => m.compression === 'none'), 'Debian 6.1 ships uncompressed modules');
  assert.ok(all.filter((m) => m.signed).length > 3900, 'and signs them');
  assert.ok(all.every((m) => m.sections && m.imageSize <= m.fileSize));
  assert.ok(s.builtin.has('ext4') === false && s.builtin.size > 100);
  for (const m of all) for (const d of m.deps) assert.ok(s.modules.has(d), `${m.name} depends on unknown ${d}`);
});

test('debian-6.1: fs-xfs resolves to xfs; dependencies and softdeps in order', () => {
  const s = loadSnapshot('debian-6.1');
  assert.deepEqual(lookupAlias(s, 'fs-xfs'), ['xfs']);
  const xfs = s.modules.get('xfs')!;
  assert.equal(xfs.path, 'kernel/fs/xfs/xfs.ko');
  assert.deepEqual(xfs.deps, ['libcrc32c']);
  assert.ok(xfs.fileSize > 4_000_000 && xfs.fileSize < 4_500_000, `xfs.ko ${xfs.fileSize} bytes`);
  // spec §5.8: xfs's allocated sections are ~0.36 of the file
  const alloc = xfs.sections!.text + xfs.sections!.rodata + xfs.sections!.roAfterInit + xfs.sections!.data + xfs.sections!.initText + xfs.sections!.initData + xfs.sections!.initRodata;
  assert.ok(alloc / xfs.fileSize > 0.3 && alloc / xfs.fileSize < 0.42, `alloc/file ${alloc / xfs.fileSize}`);
  // libcrc32c pulls crc32c in first (softdep), which the crypto aliases resolve to the accelerated
  // driver before the generic one
  assert.deepEqual(s.modules.get('libcrc32c')!.softdeps, { pre: ['crc32c'], post: [] });
  assert.deepEqual(lookupAlias(s, 'crc32c'), ['crc32c_intel', 'crc32c_generic']);
  assert.deepEqual(s.modules.get('kvm_intel')!.deps, ['kvm', 'irqbypass']);
});

test('debian-6.1: the kvm-guest CPU modalias matches the per-CPU feature and model modules', () => {
  const s = loadSnapshot('debian-6.1');
  const got = lookupAlias(s, cpuModalias(loadMachine('kvm-guest').cpu));
  // by feature: vmx, aes, sse4_2, pclmulqdq, ssse3
  for (const m of ['kvm_intel', 'aesni_intel', 'crc32c_intel', 'ghash_clmulni_intel', 'crc32_pclmul', 'crct10dif_pclmul', 'sha1_ssse3', 'sha256_ssse3', 'sha512_ssse3'])
    assert.ok(got.includes(m), `${m} missing from ${got.join(' ')}`);
  // by family 6 model 0x55 (Skylake-SP/Cascade Lake)
  for (const m of ['intel_uncore', 'intel_cstate', 'rapl', 'skx_edac', 'isst_if_mbox_msr', 'intel_uncore_frequency', 'intel_rapl_common'])
    assert.ok(got.includes(m), `${m} missing`);
  // host-only flags are absent in the guest, AMD/VIA drivers never match
  for (const m of ['coretemp', 'x86_pkg_temp_thermal', 'intel_powerclamp', 'kvm_amd', 'padlock_aes', 'acpi_cpufreq'])
    assert.ok(!got.includes(m), `${m} must not match`);
  assert.equal(got.length, 16);
  assert.deepEqual(lookupAlias(s, 'acpi:ACPI0007:'), ['acpi_cpufreq', 'pcc_cpufreq']);
});

test('debian-6.12: xz-compressed, image sizes after decompression', () => {
  const s = loadSnapshot('debian-6.12');
  assert.match(s.release, /^6\.12\./);
  const xfs = s.modules.get('xfs')!;
  assert.equal(xfs.compression, 'xz');
  assert.equal(xfs.path, 'kernel/fs/xfs/xfs.ko.xz');
  assert.ok(xfs.imageSize > 4 * xfs.fileSize);
  assert.deepEqual(lookupAlias(s, 'fs-xfs'), ['xfs']);
});

test('snapshot JSON round-trips', () => {
  const s = loadSnapshot('debian-6.1');
  const back = fromSnapshotJson(JSON.parse(JSON.stringify(toSnapshotJson(s, 'x'))), 'x');
  assert.deepEqual(back.modules.get('xfs'), s.modules.get('xfs'));
  assert.equal(back.aliases.length, s.aliases.length);
  assert.throws(() => fromSnapshotJson({ format: 'nope' }, 'f.json'), /f\.json: not a kmodlab module-set snapshot: format/);
  assert.throws(() => loadSnapshot('debian-9'), /unknown module snapshot 'debian-9'/);
});

test('snapshots carry modules.symbols and the built-in modinfo aliases; one without them still reads', () => {
  for (const name of ['debian-6.1', 'debian-6.12']) {
    const s = loadSnapshot(name);
    // symbol_request(crc_t10dif) resolves through modules.symbols on 6.1 (6.12 exports it elsewhere)
    if (name === 'debian-6.1') assert.equal(s.symbols!.get('symbol:crc_t10dif'), 'crc_t10dif', name);
    for (const [sym, mod] of s.symbols!) assert.ok(s.modules.has(mod), `${name}: ${sym} exported by unknown ${mod}`);
    assert.ok(s.symbols!.size > 14000, `${name}: ${s.symbols!.size} symbols`);
    // Debian builds IPv6 in: only modules.builtin.modinfo knows net-pf-10
    assert.ok(s.builtinAliases!.some((a) => a.pattern === 'net-pf-10' && a.module === 'ipv6'), name);
    assert.ok(s.builtin.has('ipv6') && lookupAlias(s, 'net-pf-10').length === 0, name);
    // kmod reads only the first softdep line: btrfs's first is "pre: blake2b-256"
    assert.deepEqual(s.modules.get('btrfs')!.softdeps, { pre: ['blake2b_256'], post: [] }, name);
  }
  const json = toSnapshotJson(loadSnapshot('debian-6.1'), 'x');
  delete json.symbols;
  delete json.builtinAliases;
  const old = fromSnapshotJson(JSON.parse(JSON.stringify(json)), 'old.json');
  assert.equal(old.symbols, undefined);
  assert.equal(old.builtinAliases, undefined);
  assert.equal(old.modules.size, loadSnapshot('debian-6.1').modules.size);
  const back = fromSnapshotJson(JSON.parse(JSON.stringify(toSnapshotJson(loadSnapshot('debian-6.1'), 'x'))), 'x');
  assert.deepEqual(back.symbols, loadSnapshot('debian-6.1').symbols);
  assert.deepEqual(back.builtinAliases, loadSnapshot('debian-6.1').builtinAliases);
});
