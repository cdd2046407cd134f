/**
 * DOC: the duplicate-load storm's plan from the command line — the N list, the modules and the
 * load paths, checked against the one list of each (src/results/dupstorm.ts). Both entry points
 * (`storm --parallel --module --path` and its alias `kernel storm --modules --modes`) parse here.
 */
import { InputError } from '../../errors.js';
import { canBeLive, DUPSTORM_MODES, DUPSTORM_MODULES, DUPSTORM_STATES, type DupStormMode, type DupStormPlan, type DupStormState } from '../../results/dupstorm.js';

export { DUPSTORM_MODES, DUPSTORM_MODULES, type DupStormMode, type DupStormPlan } from '../../results/dupstorm.js';

/** "1,2,4" → [1, 2, 4] */
export function parseParallel(s: string): number[] {
  const out = s.split(',').map((x) => x.trim());
  if (!out.length || out.some((x) => !/^\d+$/.test(x) || Number(x) < 1 || Number(x) > 1024))
    throw new InputError(`--parallel ${s}: want a comma-separated list of integers 1..1024`);
  return out.map(Number);
}

function list<T extends string>(name: string, v: string | undefined, known: readonly T[]): T[] {
  if (v === undefined) return [...known];
  const out = v.split(',').map((x) => x.trim());
  for (const x of out) if (!known.includes(x as T)) throw new InputError(`${name} ${v}: unknown ${x} (want ${known.join(', ')})`);
  return out as T[];
}

/** The option names a front end spells the lists with (errors name the user's own flag). */
export interface PlanFlags {
  modules: string;
  modes: string;
  /** default --state */
  states?: string;
}

export const STORM_FLAGS: PlanFlags = { modules: '--module', modes: '--path', states: '--state' };

/**
 * A plan from option text; a module or path list left out means all of it, a state list left out
 * means cold only (the storm as it always was).
 */
export function parsePlan(o: { parallel: string; modules?: string; modes?: string; states?: string }, flags: PlanFlags = STORM_FLAGS): DupStormPlan {
  const parallel = parseParallel(o.parallel);
  const modules: string[] = list(flags.modules, o.modules, DUPSTORM_MODULES);
  const modes: DupStormMode[] = list(flags.modes, o.modes, DUPSTORM_MODES);
  if (o.states === undefined) return { parallel, modules, modes };
  const flag = flags.states ?? '--state';
  const states: DupStormState[] = list(flag, o.states, DUPSTORM_STATES);
  // kml_fail is skipped for live when the modules are the default; named alone, it is a mistake
  if (states.every((s) => s === 'live') && modules.every((m) => !canBeLive(m)))
    throw new InputError(`${flag} ${o.states}: ${modules.join(', ')} is never LIVE (its init fails); want xfs or kml_slow`);
  return { parallel, modules, modes, states };
}
