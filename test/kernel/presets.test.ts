/**
 * Presets as data: built-in table sanity, JSON presets with one-line errors naming the field,
 * flag overrides, and the same-name policy plug-in loaded by path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../src/errors.js';
import { EBUSY, EEXIST, getPreset, loadPresetFile, loadSameNamePolicy, presetNames, PRESETS, resolvePreset } from '../../src/kernel/index.js';
import { makeModuleFile } from './testing/fixtures.js';
import { finitAt, MS, requestAt, tally, world } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const fixture = (f: string) => path.join(root, 'test/fixtures/kernel', f);

test('built-in presets: the names of the issue, each a complete flag set', () => {
  for (const n of ['v4.9', 'v4.13', 'v5.3', 'v5.7', 'v6.1', 'v6.1-stable', 'v6.2', 'v6.4', 'v6.5', 'v6.11', 'newest', 'whatif-kread-dedup', 'whatif-exclusive-deny', 'whatif-merge-same-name']) {
    assert.ok(presetNames().includes(n), n);
  }
  const keys = Object.keys(getPreset('v4.9').flags).sort();
  for (const p of PRESETS) assert.deepEqual(Object.keys(p.flags).sort(), keys, p.name);
  assert.deepEqual(getPreset('newest').flags, getPreset('v6.11').flags);
  assert.equal(getPreset('v6.1-stable').flags.sameNameCheck, 'no-retry');
  assert.equal(getPreset('v6.1').flags.sameNameCheck, 'wait-going-retry');
  assert.equal(getPreset('v6.1.176').name, 'v6.1-stable');
});

function oneLine(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InputError, String(e));
    assert.equal(e.message.split('\n').length, 1);
    assert.match(e.message, re);
    return true;
  });
}

test('unknown preset names, unknown flags, bad values, bad JSON: one line naming the field', () => {
  oneLine(() => getPreset('v7.0'), /^preset: unknown preset 'v7\.0' \(known: v4\.9, /);
  oneLine(() => loadPresetFile(fixture('unknown-flag.json')), /unknown-flag\.json: flags\.idempotentFinti: unknown flag$/);
  oneLine(() => loadPresetFile(fixture('unknown-base.json')), /unknown-base\.json: basedOn: unknown preset 'v9\.9'/);
  oneLine(() => loadPresetFile(fixture('bad-value.json')), /bad-value\.json: flags\.limiter: .*"fail-fast"/);
  oneLine(() => loadPresetFile(fixture('not-json.json')), /not-json\.json: invalid JSON/);
  oneLine(() => loadPresetFile(fixture('bad-constant.json')), /bad-constant\.json: constants\.maxKmodConcurrent: /);
  oneLine(() => loadPresetFile(fixture('unknown-field.json')), /unknown-field\.json: flavour: unknown field$/);
  oneLine(() => loadPresetFile(fixture('missing.json')), /missing\.json: cannot read \(ENOENT\)/);
  oneLine(() => resolvePreset('v6.4', { limiter: 'lifo' } as never), /^flags\.limiter: /);
  oneLine(() => resolvePreset('v6.4', { bogus: true } as never), /^flags\.bogus: unknown flag$/);
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

test('flag overrides in code: v6.2 + idempotent finit', () => {
  const f = makeModuleFile({ name: 'm', behaviour: { initSleepNs: 50 * MS } });
  const w = world('v6.2', [f], { flags: { idempotentFinit: 'interruptible' } });
  const ps = [0, 1, 2].map((i) => finitAt(w, f, i * MS));
  w.sim.run();
  assert.deepEqual(tally(ps.map((p) => p.result)), { '0': 3 });
});

for (const ext of ['js', 'ts'] as const) {
  test(`same-name policy plug-in loaded by path (.${ext}) replaces the duplicate handling`, async () => {
    const file = ext === 'js' ? path.join(root, 'dist/test/fixtures/kernel/policy-fail-fast.js') : fixture('policy-fail-fast.ts');
    const policy = await loadSameNamePolicy(file);
    assert.equal(policy.name, 'fail-fast');
    const f = makeModuleFile({ name: 'kvm', size: 100_000, behaviour: { initSleepNs: 100 * MS } });
    const w = world('v6.2', [f], { policy });
    const ps = [0, 1, 2, 3].map((i) => finitAt(w, f, i * MS));
    w.sim.run(50 * MS);
    // rejected before allocation: nothing but the winner's module memory
    assert.equal(w.k.memory.vmalloc.used, 0);
    w.sim.run();
    assert.deepEqual(tally(ps.map((p) => p.result)), { '0': 1, [-EBUSY]: 3 });
    assert.equal(w.k.stats.duplicates()[0]?.reason, 'Becoming');
    const late = finitAt(w, f);
    w.sim.run();
    assert.equal(late.result, -EEXIST);
  });
}

test('policy plug-in errors are one line', async () => {
  await assert.rejects(loadSameNamePolicy(fixture('nope.js')), /policy .*nope\.js: no such file/);
  await assert.rejects(loadSameNamePolicy(fixture('good-preset.json')), (e: unknown) => e instanceof InputError && /policy .*: (cannot load|default export)/.test(e.message));
});
