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
    // no panic message, no signal: the guest died, and that is not a panic (issue 13)
    [{ console: 'ok\n', booted: true, deadlineHit: false, diedUnexpectedly: true }, 'guest-died'],
    // kmodlab was told to stop: whatever the VM did after, it was interrupted; a panic still wins
    [{ console: 'ok\n', booted: true, deadlineHit: false, diedUnexpectedly: true, interrupted: 'SIGTERM' }, 'interrupted'],
    [{ console: 'ok\n', booted: true, deadlineHit: true, diedUnexpectedly: false, interrupted: 'SIGINT' }, 'interrupted'],
    [{ console: 'SeaBIOS\n', booted: false, deadlineHit: false, diedUnexpectedly: false, interrupted: 'SIGINT' }, 'interrupted'],
    [{ console: PANIC, booted: true, deadlineHit: false, diedUnexpectedly: true, interrupted: 'SIGTERM' }, 'kernel-panic'],
    // QEMU itself killed by a signal from outside
    [{ console: 'ok\n', booted: true, deadlineHit: false, diedUnexpectedly: true, vmSignal: 'SIGTERM' }, 'interrupted'],
    [{ console: 'SeaBIOS\n', booted: false, deadlineHit: true, diedUnexpectedly: false }, 'boot-failure'],
    [{ console: '', booted: false, deadlineHit: false, diedUnexpectedly: true }, 'boot-failure'],
  ];
  for (const [facts, state] of cases) assert.equal(classifySession(facts).state, state, JSON.stringify(facts));
  assert.match(classifySession(cases[2]![0]).detail, /VFS: Unable to mount root fs/);
});

test('interrupted exits 128 + the signal (130, 143); a guest that died is a failed run (1), never 5', () => {
  assert.equal(exitCodeFor(classifySession({ console: '', booted: true, deadlineHit: false, diedUnexpectedly: false, interrupted: 'SIGTERM' }), true), 143);
  assert.equal(exitCodeFor(classifySession({ console: '', booted: true, deadlineHit: false, diedUnexpectedly: false, interrupted: 'SIGINT' }), true), 130);
  const killed = classifySession({ console: '', booted: true, deadlineHit: false, diedUnexpectedly: true, vmSignal: 'SIGTERM' });
  assert.deepEqual(killed, { state: 'interrupted', detail: 'qemu was killed by SIGTERM from outside', signal: 'SIGTERM' });
  assert.equal(exitCodeFor(killed, true), 143);
  assert.equal(exitCodeFor({ state: 'guest-died', detail: '' }, true), EXIT_FAIL);
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
