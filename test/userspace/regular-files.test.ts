/**
 * Files are opened only when they are regular files (issue 12, item 5): a FIFO given as a .ko,
 * a preset, a machine profile or a policy is one line and exit 2, never a read that blocks
 * forever.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InputError } from '../../src/errors.js';
import { loadPolicyPlugin } from '../../src/io/policy.js';
import { loadPresetFile } from '../../src/io/presets.js';
import { readKoFile } from '../../src/userspace/depmod/kofile.js';
import { loadMachine } from '../../src/userspace/machines/load.js';

const dir = mkdtempSync(path.join(tmpdir(), 'kmodlab-fifo-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const fifo = (name: string): string => {
  const f = path.join(dir, name);
  execFileSync('mkfifo', [f]);
  return f;
};
const notRegular = (e: unknown): boolean => e instanceof InputError && /not a regular file/.test(e.message) && !e.message.includes('\n');

test('a .ko that is a FIFO', async () => {
  await assert.rejects(readKoFile(fifo('xfs.ko')), notRegular);
});
test('a preset, machine or policy that is a FIFO', async () => {
  assert.throws(() => loadPresetFile(fifo('p.json')), notRegular);
  assert.throws(() => loadMachine(fifo('m.json')), notRegular);
  await assert.rejects(loadPolicyPlugin(fifo('pol.js')), notRegular);
});
