/**
 * DOC: runDupStorm(plan, target) — the one way a duplicate-load storm is run, whatever the
 * target: the simulator (sim.ts: simDupStormTarget) or a real kernel in a VM
 * (src/targets/qemu/storm.ts: guestDupStormTarget). The plan is checked here, once, against the
 * lists both targets know; the target runs it in plan order and returns the rows.
 */
import { InputError } from '../../errors.js';
import { DUPSTORM_MODES, DUPSTORM_MODULES, type DupStormPlan, type DupStormRow, type DupStormTarget } from '../../results/dupstorm.js';

export type { DupStormTarget } from '../../results/dupstorm.js';

export async function runDupStorm<R extends { rows: DupStormRow[] }>(plan: DupStormPlan, target: DupStormTarget<R>, onRow?: (row: DupStormRow) => void): Promise<R> {
  const modules: readonly string[] = DUPSTORM_MODULES;
  for (const m of plan.modules) if (!modules.includes(m)) throw new InputError(`storm module ${m}: unknown (${DUPSTORM_MODULES.join(', ')})`);
  for (const m of plan.modes) if (!DUPSTORM_MODES.includes(m)) throw new InputError(`storm mode ${m}: unknown (${DUPSTORM_MODES.join(', ')})`);
  if (plan.parallel.some((n) => !Number.isInteger(n) || n < 1)) throw new InputError(`storm N ${plan.parallel.join(',')}: want integers from 1`);
  return target.run(plan, onRow);
}
