/**
 * The developer-kernel module sets (issue 17 item 3): debian-6.1-dbg is Debian's 6.1 tree with the
 * unstripped modules of its linux-image-<abi>-dbg package (scripts/snapshot/generate-dbg.ts). The
 * module set is Debian's; only what debug info changes may differ: the files are many times
 * larger and uncompressed, while the allocated sections — what a loaded module occupies — stay
 * those of the stripped build.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSnapshot } from '../../../src/userspace/depmod/snapshot.js';

const dbg = loadSnapshot('debian-6.1-dbg');
const stripped = loadSnapshot('debian-6.1');

test('debian-6.1-dbg: Debian 6.1 with the -dbg package\'s modules', () => {
  assert.match(dbg.release, /^6\.1\.0-\d+-amd64$/);
  assert.ok(dbg.modules.size > 4000, `${dbg.modules.size} modules`);
  // the same tree: nearly every module of the shipped stripped set (another ABI of 6.1) is there
  const names = [...stripped.modules.keys()];
  const common = names.filter((n) => dbg.modules.has(n)).length;
  assert.ok(common / names.length > 0.99, `${common} of ${names.length}`);
  assert.ok(dbg.aliases.length > 10_000);
});

test('unstripped files are many times the stripped ones; the loaded image is not', () => {
  let bigger = 0;
  for (const [name, m] of dbg.modules) {
    assert.equal(m.compression, 'none', name);
    assert.ok(m.sections, `${name}: sections from the unstripped .ko`);
    const s = stripped.modules.get(name);
    if (s && m.fileSize > s.fileSize) bigger++;
  }
  assert.ok(bigger / dbg.modules.size > 0.99, `${bigger} larger`);
  for (const name of ['xfs', 'kvm', 'kvm_intel']) {
    const u = dbg.modules.get(name)!;
    const s = stripped.modules.get(name)!;
    assert.ok(u.fileSize > 7 * s.fileSize, `${name}: ${u.fileSize} vs ${s.fileSize}`);
    for (const k of ['text', 'rodata', 'data'] as const) {
      const a = u.sections![k];
      const b = s.sections![k];
      assert.ok(Math.abs(a / b - 1) < 0.02, `${name} ${k}: ${a} vs ${b}`);
    }
  }
});
