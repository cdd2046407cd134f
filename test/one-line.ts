/**
 * Test helper (not a test): assert that a call fails with one InputError line matching `re` —
 * the form every input problem takes (src/errors.ts).
 */
import assert from 'node:assert/strict';
import { InputError } from '../src/errors.js';

export function oneLine(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InputError, String(e));
    assert.equal(e.message.split('\n').length, 1);
    assert.match(e.message, re);
    return true;
  });
}
