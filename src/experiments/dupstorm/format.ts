/**
 * DOC: the duplicate-load storm as text — the outcome counts ("EEXIST ×3, 0 ×1": most frequent
 * first), the markdown table both targets print, and the progress line per storm. One formatter
 * for the sim and the guest, so their tables line up for the eye and for --compare.
 */
import type { DupStormRow } from '../../results/dupstorm.js';

export function countsText(c: Record<string, number>): string {
  return Object.entries(c)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, v]) => `${k} ×${v}`)
    .join(', ');
}

/** a row's state before the storm: cold (not loaded) or live */
export const stateOf = (r: DupStormRow): 'cold' | 'live' => r.state ?? 'cold';

/** A markdown table of storm rows; a "before" column (cold/live) when any storm ran on a LIVE module. */
export function stormTable(rows: readonly DupStormRow[]): string {
  const withState = rows.some((r) => r.state === 'live');
  const lines = withState
    ? ['| module | before | load path | N | outcomes | VmallocUsed before → peak (KiB) | last return (ms) |', '| --- | --- | --- | --- | --- | --- | --- |']
    : ['| module | load path | N | outcomes | VmallocUsed before → peak (KiB) | last return (ms) |', '| --- | --- | --- | --- | --- | --- |'];
  for (const r of rows)
    lines.push(
      `| ${r.module} | ${withState ? `${stateOf(r)} | ` : ''}${r.mode} | ${r.n} | ${countsText(r.counts)} | ${r.baselineVmallocKiB} → ${r.peakVmallocKiB} (+${r.peakVmallocKiB - r.baselineVmallocKiB}) | ${(r.spanUs / 1000).toFixed(0)} |`,
    );
  return lines.join('\n') + '\n';
}

/** One storm done, for the progress log: "kml_slow finit N=4: EEXIST ×3, 0 ×1; VmallocUsed peak +12 KiB; 1003 ms" (live storms: "kml_slow live finit N=4: …") */
export function stormProgressLine(r: DupStormRow): string {
  return `${r.module}${r.state === 'live' ? ' live' : ''} ${r.mode} N=${r.n}: ${countsText(r.counts)}; VmallocUsed peak +${r.peakVmallocKiB - r.baselineVmallocKiB} KiB; ${(r.spanUs / 1000).toFixed(0)} ms`;
}
