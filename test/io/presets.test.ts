/**
 * JSON presets read from files: one-line errors naming the file and the field, and a preset from
 * a file driving the kernel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPresetFile } from '../../src/io/presets.js';
import { oneLine } from '../one-line.js';
import { MS, requestAt, world } from '../kernel/helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const fixture = (f: string) => path.join(root, 'test/fixtures/kernel', f);

test('unreadable files, bad JSON, unknown flags, bad values: one line naming the file and the field', () => {
  oneLine(() => loadPresetFile(fixture('unknown-flag.json')), /unknown-flag\.json: flags\.idempotentFinti: unknown flag$/);
  oneLine(() => loadPresetFile(fixture('unknown-base.json')), /unknown-base\.json: basedOn: unknown preset 'v9\.9'/);
  oneLine(() => loadPresetFile(fixture('bad-value.json')), /bad-value\.json: flags\.limiter: .*"fail-fast"/);
  oneLine(() => loadPresetFile(fixture('not-json.json')), /not-json\.json: invalid JSON/);
  oneLine(() => loadPresetFile(fixture('bad-constant.json')), /bad-constant\.json: constants\.maxKmodConcurrent: /);
  oneLine(() => loadPresetFile(fixture('unknown-field.json')), /unknown-field\.json: flavour: unknown field$/);
  oneLine(() => loadPresetFile(fixture('missing.json')), /missing\.json: cannot read \(ENOENT\)/);
});

test('a JSON preset drives the kernel: dups on with trace, 64 kmod slots', () => {
  const p = loadPresetFile(fixture('good-preset.json'));
  assert.equal(p.name, 'v6.4-dups-trace');
  assert.equal(p.basedOn, 'v6.4');
  assert.equal(p.flags.limiter, 'fifo-semaphore');
  assert.equal(p.constants.maxKmodConcurrent, 64);
  const w = world('v6.4', [], { preset: p });
  assert.equal(w.k.release, 'v6.4-dups-trace');
  assert.equal(w.k.kmod.freeSlots, 64);
  requestAt(w, 'nope');
  requestAt(w, 'nope', 1 * MS);
  w.sim.run();
  assert.ok(w.k.dmesg().some((l) => l.includes('[ cut here ]')));
});
