/**
 * DOC: spec §7.5 as data — every test of the newest kmod.sh on every kernel preset, on a fresh
 * simulated machine (the table's profile, sr950; seed 1, test modules built in tree), default counts,
 * --keep-going. The table is data/expected/selftest-outcomes.json; this file only runs and compares.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSelftest, type SelftestResult } from '../../src/selftest/index.js';
import { EXPECTED_OUTCOMES, SIM_OUTCOMES_MACHINE } from './expected.js';
import { resolvePreset } from '../../src/kernel/presets.js';
import { createSimTarget } from '../../src/targets/sim.js';

interface Observed {
  /** failing tests: id → "step got" */
  failures: Record<string, { step: string; got: string }>;
}

function observe(r: SelftestResult): Observed {
  const failures: Observed['failures'] = {};
  for (const t of r.tests) {
    if (t.status === 'pass') continue;
    const run = t.runs.find((x) => !x.ok);
    const step = run?.steps.find((s) => !s.ok);
    const got = step?.expected === 'visibility' ? (step.value ?? '') : (step?.value ?? `(${t.status})`);
    failures[t.id] = { step: step?.name ?? '?', got };
  }
  return { failures };
}

for (const exp of EXPECTED_OUTCOMES) {
  test(`§7.5 on ${exp.preset}`, async () => {
    assert.equal(resolvePreset(exp.preset).constants.kmodSh, exp.era, "the preset's own kmod.sh");
    const target = createSimTarget({ kernel: exp.preset, machine: SIM_OUTCOMES_MACHINE, testModules: 'in-tree' });
    const r = await runSelftest({ target, args: [], era: 'v5.8', keepGoing: true, reporter: { line: () => {} } });
    await target.close();
    const got = observe(r).failures;
    const want = Object.fromEntries(Object.entries(exp.failures).map(([id, f]) => [id, { step: f.step, got: f.got }]));
    assert.deepEqual(got, want, `${exp.preset}: outcomes differ from spec §7.5`);
    assert.equal(r.exitCode, Object.keys(got).length > 0 ? 1 : 0);
  });
}
