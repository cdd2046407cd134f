/**
 * DOC: the four session outcomes and their exit codes (src/targets/qemu/outcome.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  classifySession,
  exitCodeFor,
  EXIT_BOOT_FAILURE,
  EXIT_FAIL,
  EXIT_KERNEL_PANIC,
  EXIT_PASS,
  EXIT_TIMEOUT,
} from '../../../src/targets/qemu/outcome.js';

const PANIC = '[    3.1] Kernel panic - not syncing: VFS: Unable to mount root fs\n';

test('classification table', () => {
  const cases: [Parameters<typeof classifySession>[0], string][] = [
    [{ console: 'ok\n', booted: true, deadlineHit: false, diedUnexpectedly: false }, 'ran'],
    [{ console: 'ok\n', booted: true, deadlineHit: true, diedUnexpectedly: false }, 'timeout'],
    [{ console: PANIC, booted: true, deadlineHit: true, diedUnexpectedly: true }, 'kernel-panic'],
    [{ console: PANIC, booted: false, deadlineHit: false, diedUnexpectedly: true }, 'kernel-panic'],
    [{ console: 'ok\n', booted: true, deadlineHit: false, diedUnexpectedly: true }, 'kernel-panic'],
    [{ console: 'SeaBIOS\n', booted: false, deadlineHit: true, diedUnexpectedly: false }, 'boot-failure'],
    [{ console: '', booted: false, deadlineHit: false, diedUnexpectedly: true }, 'boot-failure'],
  ];
  for (const [facts, state] of cases) assert.equal(classifySession(facts).state, state, JSON.stringify(facts));
  assert.match(classifySession(cases[2]![0]).detail, /VFS: Unable to mount root fs/);
});

test('exit codes are distinct, and distinct from usage (2) and kselftest skip (4)', () => {
  const codes = [
    exitCodeFor({ state: 'ran', detail: '' }, true),
    exitCodeFor({ state: 'ran', detail: '' }, false),
    exitCodeFor({ state: 'timeout', detail: '' }, true),
    exitCodeFor({ state: 'kernel-panic', detail: '' }, true),
    exitCodeFor({ state: 'boot-failure', detail: '' }, true),
  ];
  assert.deepEqual(codes, [EXIT_PASS, EXIT_FAIL, EXIT_TIMEOUT, EXIT_KERNEL_PANIC, EXIT_BOOT_FAILURE]);
  assert.equal(new Set([...codes, 2, 4]).size, 7);
});
