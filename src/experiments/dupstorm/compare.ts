/**
 * DOC: a real kernel's duplicate-load storm against its sim model (`storm --parallel --compare`):
 * the rows as an outcome table for compareTables (counts compared, peaks shown), and which
 * differences count as explained — only modprobe storms of a module whose init fails, where the
 * real processes arrive spread out and a late one re-runs the failing init. Anything else is a
 * finding.
 */
import type { DupStormRow } from '../../results/dupstorm.js';
import { compareTables, type Comparison, type Explain, type OutcomeTable } from '../compare.js';
import { countsText, stateOf } from './format.js';

/** A storm result as an outcome table: the counts compared, the peak shown; keyed by the state too when a storm ran on a LIVE module. */
export function stormOutcomeTable(rows: readonly DupStormRow[]): OutcomeTable {
  const withState = rows.some((r) => r.state === 'live');
  return {
    keyColumns: ['module', 'path', 'N', ...(withState ? ['before'] : [])],
    valueColumns: ['outcomes'],
    infoColumns: ['peak VmallocUsed +KiB'],
    rows: rows.map((r) => ({
      key: [r.module, r.mode, String(r.n), ...(withState ? [stateOf(r)] : [])],
      values: [countsText(r.counts)],
      info: [String(r.peakVmallocKiB - r.baselineVmallocKiB)],
    })),
  };
}

/** countsText back into counts */
function parseCounts(s: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const part of s.split(', ')) {
    const i = part.lastIndexOf(' ×');
    if (i > 0) m.set(part.slice(0, i), Number(part.slice(i + 2)));
  }
  return m;
}

export const MODPROBE_TIMING_NOTE =
  'timing-dependent: N modprobe processes reach the kernel over 1–4 s under TCG (fork, exec, userspace work), not at one instant; ' +
  'one that arrives after the previous failed load is gone becomes a first loader and runs the failing init again ' +
  '(same outcomes, different split; data/calibration/debian-6.12.md)';

/**
 * Known differences: only modprobe storms of a module whose init fails, where the real guest got
 * more first-loader answers (the init's error) and fewer EBUSY than the sim, with the same N
 * and no other outcome. Anything else is a finding.
 */
export const explainStorm: Explain = (key, column, real, sim) => {
  if (column !== 'outcomes' || key[1] !== 'modprobe') return null;
  const r = parseCounts(real);
  const s = parseCounts(sim);
  const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  if (total(r) !== total(s) || total(r) !== Number(key[2])) return null;
  const busy = 'exit 1 EBUSY';
  const others = [...r.keys(), ...s.keys()].filter((k) => k !== busy);
  if (new Set(others).size !== 1) return null;
  const first = others[0]!;
  if (!first.startsWith('exit 1 ')) return null;
  return (r.get(first) ?? 0) > (s.get(first) ?? 0) ? MODPROBE_TIMING_NOTE : null;
};

export function compareStorms(real: { label: string; rows: readonly DupStormRow[] }, sim: { label: string; rows: readonly DupStormRow[] }): Comparison {
  return compareTables({ label: real.label, table: stormOutcomeTable(real.rows) }, { label: sim.label, table: stormOutcomeTable(sim.rows) }, explainStorm);
}
