/**
 * DOC: the expected kmod.sh outcomes, read from data/expected/ — spec §7.5 per kernel preset
 * (selftest-outcomes.json) and the real Debian 6.1 run (selftest-debian-6.1.json). They are
 * data, asserted by the tests against the simulator; nothing in src/ needs them.
 *
 * The §7.5 table holds on the sr950 profile: it assumes a trigger's threads all call
 * request_module at once, which holds where thread creation is fast next to modprobe. On the
 * 2-vCPU calibration guest it does not (the real Debian 6.1 run was throttled in 0008 once in
 * 150 runs, so there v4.9's 0008 would pass nearly every run). Older presets are run with the
 * newest script to show what it would find, as when running current selftests on an old kernel.
 */
import { readFileSync } from 'node:fs';
import type { KmodShEra } from '../../src/selftest/index.js';
import { dataPath } from '../../src/userspace/depmod/paths.js';

export interface ExpectedFailure {
  /** the bash function that failed (kmod_test_0001_fs, kmod_check_visibility, …) */
  step: string;
  /** what kmod.sh printed as the value */
  got: string;
  /** why, in the spec's words */
  why: string;
}

export interface PresetExpectation {
  preset: string;
  /** the preset's own kmod.sh (decides which tests exist by default) */
  era: KmodShEra;
  /** failing tests (of the newest script, run with --keep-going); the rest pass */
  failures: Record<string, ExpectedFailure>;
}

/** One test of the real Debian 6.1 run (calibration/debian-6.1.md). */
export interface CalibrationRow {
  id: string;
  /** the values config_expect_result printed, in order (driver half first) */
  values: string[];
  status: 'pass' | 'fail';
  /** the failure line, for the failing test */
  failure?: string;
}

const read = <T>(file: string): T => JSON.parse(readFileSync(dataPath('expected', file), 'utf8')) as T;

const outcomes = read<{ machine: string; presets: PresetExpectation[] }>('selftest-outcomes.json');

/** the machine profile the §7.5 table holds on (see above) */
export const SIM_OUTCOMES_MACHINE: string = outcomes.machine;

export const EXPECTED_OUTCOMES: readonly PresetExpectation[] = outcomes.presets;

/**
 * Debian 6.1.0-50-amd64 under QEMU TCG, 2 vCPUs, test_kmod/test_module built out of tree and
 * unsigned (taint OE): the full default run stops at 0012 with exit 1; 0013 was run on its own.
 */
export const CALIBRATION_DEBIAN_61: readonly CalibrationRow[] = read<{ tests: CalibrationRow[] }>('selftest-debian-6.1.json').tests;
