/**
 * DOC: the duplicate-load storm's record — the plan that decides it, the row each
 * (module, load path, N) storm gives, and the contract of a target that runs a plan.
 *
 * It sits here, below targets/, because both sides of `kmodlab storm --parallel` speak it: the
 * simulator (experiments/dupstorm/sim.ts) and the real guest (targets/qemu/storm.ts) run the
 * same plan and return the same rows, and experiments/dupstorm/ compares and prints them.
 * Load paths:
 *   finit             N tasks each call finit_module(fd, params, 0) on one uncompressed file
 *   finit-compressed  the same with MODULE_INIT_COMPRESSED_FILE on an xz copy
 *   init              init_module(image) — what kmod < 31 does with a compressed module
 *   modprobe          N `modprobe NAME PARAMS` processes of the machine's kmod
 * Modules: xfs (a real module with dependencies), kml_slow (init sleeps, then succeeds) and
 * kml_fail (init sleeps, then fails with -ENODEV).
 * Module states before the storm:
 *   cold  the module is not loaded (the default): one call loads it, the others are duplicates
 *         of a load in progress
 *   live  the module was loaded and is LIVE: every call is a duplicate of a finished load (what
 *         udev's late workers and a second modprobe of a loaded module give); only for modules
 *         whose init succeeds (xfs, kml_slow) — a module whose init fails is never LIVE
 */

export type DupStormMode = 'finit' | 'finit-compressed' | 'init' | 'modprobe';
export const DUPSTORM_MODES: readonly DupStormMode[] = ['finit', 'finit-compressed', 'init', 'modprobe'];
export const DUPSTORM_MODULES = ['xfs', 'kml_slow', 'kml_fail'] as const;
export type DupStormState = 'cold' | 'live';
export const DUPSTORM_STATES: readonly DupStormState[] = ['cold', 'live'];
/** modules whose init fails are never LIVE: no live storm of them */
export const canBeLive = (module: string): boolean => module !== 'kml_fail';

/** The states a plan runs for MODULE, in plan order (no plan states: cold only). */
export function statesFor(plan: Pick<DupStormPlan, 'states'>, module: string): DupStormState[] {
  return (plan.states ?? ['cold']).filter((s) => s === 'cold' || canBeLive(module));
}

/** kml_slow's init sleep and kml_fail's sleep before -ENODEV when the plan names none (ms) */
export const DEFAULT_SLOW_MSECS = 1000;
export const DEFAULT_FAIL_MSECS = 500;

/** What to run: every module × load path × state × N, in that order. */
export interface DupStormPlan {
  /** the N values: concurrent loads per storm */
  parallel: number[];
  modules: string[];
  modes: DupStormMode[];
  /** the module's state before each storm (default cold only) */
  states?: DupStormState[];
  /** kml_slow's init sleep (ms, default DEFAULT_SLOW_MSECS) */
  slowMsecs?: number;
  /** kml_fail's sleep before -ENODEV (ms, default DEFAULT_FAIL_MSECS) */
  failMsecs?: number;
}

/** The module parameters every load of MODULE passes ("" for none). */
export function moduleParams(plan: Pick<DupStormPlan, 'slowMsecs' | 'failMsecs'>, module: string): string {
  if (module === 'kml_slow') return `msecs=${plan.slowMsecs ?? DEFAULT_SLOW_MSECS}`;
  if (module === 'kml_fail') return `msecs=${plan.failMsecs ?? DEFAULT_FAIL_MSECS}`;
  return '';
}

export interface DupStormRow {
  module: string;
  mode: DupStormMode;
  n: number;
  /** 'live' when the module was LIVE before the storm; absent for a cold storm */
  state?: 'live';
  /** outcome → count: "0", "EEXIST", "EBUSY", "ENODEV", … (modprobe: "exit 0", "exit 1 EBUSY") */
  counts: Record<string, number>;
  baselineVmallocKiB: number;
  peakVmallocKiB: number;
  /** µs from release to the last call's return */
  spanUs: number;
  /** per call, in index order */
  calls: { result: string; us: number }[];
}

/**
 * A target of the storm: runs a whole plan (module × path × N, in plan order) and returns its
 * rows with whatever describes the machine it ran on. `onRow` hears each row as it is done.
 */
export interface DupStormTarget<R extends { rows: DupStormRow[] }> {
  run(plan: DupStormPlan, onRow?: (row: DupStormRow) => void): R | Promise<R>;
}
