/**
 * DOC: the explorer's text output — per preset the distinct outcomes with count, share, 95%
 * interval and the schedule that replays each (seed, and path for exhaustive), with the shrunk
 * schedule as a replay command and a readable step list; and, for several presets, one table
 * side by side, so a fix's effect on every interleaving is one look.
 */
import { wilson, type Exploration, type OutcomeRow } from './explore.js';

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/** the options that replay a schedule, as a user types them */
export function replayArgs(seed: number, path?: string, drop: readonly string[] = []): string {
  return `--replay ${seed}${path !== undefined ? ` --path ${path === '' ? 'defaults' : path}` : ''}${drop.length ? ` --drop ${drop.join(',')}` : ''}`;
}

function header(e: Exploration): string {
  const n = `${e.runs} schedule${e.runs === 1 ? '' : 's'}`;
  const how =
    e.strategy === 'exhaustive'
      ? `exhaustive, at most ${e.depth} tie${e.depth === 1 ? '' : 's'} out of order, ${e.points ?? 3} points per range, ${e.complete === true ? 'complete' : `bound reached: not complete${(e.level ?? 0) > 0 ? `, every schedule with at most ${e.level! - 1} out of order run` : ''}`}`
      : e.strategy === 'pct'
        ? `pct depth ${e.depth}, seeds ${e.seed}..${e.seed + e.runs - 1}; a seed replays with --strategy pct --depth ${e.depth} --replay SEED`
        : `${e.strategy}, seeds ${e.seed}..${e.seed + e.runs - 1}`;
  return `${e.scenario} on ${e.kernel}: ${n} (${how}), ${e.outcomes.length} distinct outcome${e.outcomes.length === 1 ? '' : 's'}`;
}

function where(r: OutcomeRow): string {
  return r.firstPath !== undefined ? `seed ${r.firstSeed} path ${r.firstPath === '' ? '(defaults)' : r.firstPath}` : `seed ${r.firstSeed}`;
}

export function formatExploration(e: Exploration, scenarioArg = e.scenario): string {
  const lines = [header(e)];
  for (const r of e.outcomes) {
    const [lo, hi] = wilson(r.count, e.runs);
    lines.push(`  ${String(r.count).padStart(6)}  ${pct(r.count / e.runs).padStart(6)}  [${pct(lo)}, ${pct(hi)}]  ${where(r)}`);
    lines.push(`      ${r.key}`);
    const s = r.shrunk;
    // a schedule with nothing off its defaults and no process to leave out is its own shrink
    if (s !== undefined && (s.from > 0 || s.drop.length > 0)) {
      lines.push(`      shrunk: ${s.to} of ${s.from} decisions off their defaults${s.drop.length ? `, without ${s.drop.join(', ')}` : ''}: kmodlab explore ${scenarioArg} --kernel ${e.kernel} ${replayArgs(s.seed, s.path, s.drop)}`);
      for (const st of s.steps) lines.push(`        ${st}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** an outcome as `--format json` gives it: the stored row plus its share and 95% (Wilson) interval */
export interface OutcomeJson extends OutcomeRow {
  share: number;
  interval: [number, number];
}

/** an exploration as `--format json` prints it (the --out file keeps the rows without the derived fields) */
export function explorationJson(e: Exploration): Omit<Exploration, 'outcomes'> & { outcomes: OutcomeJson[] } {
  return {
    ...e,
    outcomes: e.outcomes.map((r) => {
      const { key, count, ...rest } = r;
      return { key, count, share: r.count / e.runs, interval: wilson(r.count, e.runs), ...rest };
    }),
  };
}

/** every outcome of any preset, one row each, with its share (and count) per preset */
export function formatSideBySide(es: readonly Exploration[]): string {
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const e of es)
    for (const r of e.outcomes)
      if (!seen.has(r.key)) {
        seen.add(r.key);
        keys.push(r.key);
      }
  const cells = keys.map((k) =>
    es.map((e) => {
      const r = e.outcomes.find((x) => x.key === k);
      return r === undefined ? '-' : `${pct(r.count / e.runs)} (${r.count})`;
    }),
  );
  const width = es.map((e, i) => Math.max(e.kernel.length, ...cells.map((c) => c[i]!.length)));
  const row = (cs: string[], last: string): string => `  ${cs.map((c, i) => c.padEnd(width[i]!)).join('  ')}  ${last}`.trimEnd();
  const lines = [`side by side (share of each preset's schedules):`, row(es.map((e) => e.kernel), 'outcome')];
  keys.forEach((k, i) => lines.push(row(cells[i]!, k)));
  return lines.join('\n') + '\n';
}
