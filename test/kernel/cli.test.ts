/**
 * `kmodlab kernels` through commander (the command is registered on a fresh program here; the
 * CLI's index wires it for real).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { presetTable } from '../../src/cli/commands/kernels.js';
import { register } from '../../src/cli/declare/kernels.js';
import { InputError } from '../../src/errors.js';
import { PRESETS } from '../../src/kernel/index.js';
import { runCommand } from '../capture-stdout.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const run = (args: string[]): Promise<string> => runCommand(register, args);

test('kmodlab kernels: a table of every preset', async () => {
  const out = await run(['kernels']);
  assert.equal(out, presetTable(PRESETS));
  assert.match(out, /^preset +base +limiter/);
  assert.match(out, /\nv4\.9 +- +fail-fast +v4\.9 +off +0 /);
  assert.match(out, /\nv6\.4 +v6\.2 +fifo-semaphore +no-retry\+early +off +-ENOENT +yes +no /);
});

test('kmodlab kernels show NAME / --preset-file', async () => {
  const p = JSON.parse(await run(['kernels', 'show', 'v6.5']));
  assert.equal(p.flags.idempotentFinit, 'uninterruptible');
  const q = JSON.parse(await run(['kernels', 'show', '--preset-file', path.join(root, 'test/fixtures/kernel/good-preset.json')]));
  assert.equal(q.name, 'v6.4-dups-trace');
  const t = await run(['kernels', '--preset-file', path.join(root, 'test/fixtures/kernel/good-preset.json')]);
  assert.match(t, /\nv6\.4-dups-trace +v6\.4 .* trace /);
  await assert.rejects(run(['kernels', 'show', 'v9']), (e: unknown) => e instanceof InputError && e.message.startsWith("--kernel: unknown preset 'v9'"));
});
