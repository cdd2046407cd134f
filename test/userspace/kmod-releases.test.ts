/**
 * DOC: the kmod-release table (src/userspace/kmod-releases.ts): each version resolves to the row
 * of the newest release at or below it, and the rows carry the three behaviour changes libkmod
 * and kmod.sh ask about (kmod 6, 20, 31).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KMOD_RELEASES, kmodRelease } from '../../src/userspace/kmod-releases.js';

test('a version resolves to its release row', () => {
  assert.deepEqual(
    [0, 1, 5, 6, 19, 20, 30, 31, 34].map((v) => kmodRelease(v).version),
    [1, 1, 1, 6, 6, 20, 20, 31, 31],
  );
});

test('kmod < 6 counts COMING as loaded; ≤ 19 reads a missing initstate as BUILTIN; ≥ 31 finits compressed files', () => {
  for (let v = 0; v <= 40; v++) {
    const r = kmodRelease(v);
    assert.equal(r.comingIsInKernel, v < 6, `kmod ${v}: COMING in kernel`);
    assert.equal(r.missingInitstateIsBuiltin, v <= 19, `kmod ${v}: no initstate = BUILTIN`);
    assert.equal(r.finitCompressedFile, v >= 31, `kmod ${v}: compressed finit_module`);
  }
});

test('the rows are in release order', () => {
  const v = KMOD_RELEASES.map((r) => r.version);
  assert.deepEqual(v, [...v].sort((a, b) => a - b));
});
