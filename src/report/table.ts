/**
 * DOC: the storm's terminal table — one row per (CPU count, kernel) point.
 *
 * This is what a user reads first after a sweep, so it carries every per-run measure the issue
 * names, in fixed-width columns that line up in any terminal and in a CI log (plain text, no
 * colour). With several seeds per point the row holds the median and a second line under it the
 * spread (min–max): one seed's boot is one interleaving, and the spread says how much the
 * interleaving matters at that CPU count.
 */
import type { StormParams, StormRunRecord } from '../results/record.js';
import { groupByPoint, summarize, type Measure, type PointGroup } from './records.js';
import { formatByteRange, formatBytes, formatCount, formatCountRange, formatNs, formatNsRange } from './units.js';

type Kind = 'bytes' | 'count' | 'ns';

export interface Column {
  group?: string;
  title: string;
  /** text columns are left-aligned, numbers right-aligned */
  align: 'left' | 'right';
  cell: (g: PointGroup) => string;
  range?: (g: PointGroup) => string;
}

function measureColumn(title: string, m: Measure, kind: Kind, group?: string): Column {
  const fmt = kind === 'bytes' ? formatBytes : kind === 'ns' ? formatNs : formatCount;
  const fmtRange = kind === 'bytes' ? formatByteRange : kind === 'ns' ? formatNsRange : formatCountRange;
  const col: Column = {
    title,
    align: 'right',
    cell: (g) => fmt(summarize(g, m).median),
    range: (g) => {
      const s = summarize(g, m);
      return s.min === s.max ? '' : fmtRange(s.min, s.max);
    },
  };
  if (group !== undefined) col.group = group;
  return col;
}

export interface TableOptions {
  /** show the machine column even when all records share one machine */
  machineColumn?: boolean;
}

function pad(text: string, width: number, align: 'left' | 'right'): string {
  return align === 'left' ? text.padEnd(width) : text.padStart(width);
}

/** The table's columns for a set of grouped records (shared with the HTML report). */
export function tableColumns(groups: readonly PointGroup[], opts: TableOptions = {}): Column[] {
  const machines = new Set(groups.map((g) => g.machine));
  const multiSeed = groups.some((g) => g.runs.length > 1);
  const cols: Column[] = [{ title: 'cpus', align: 'right', cell: (g) => String(g.cpus) }];
  if (opts.machineColumn || machines.size > 1) cols.push({ title: 'machine', align: 'left', cell: (g) => g.machine });
  cols.push({ title: 'kernel', align: 'left', cell: (g) => g.kernel });
  if (multiSeed) cols.push({ title: 'seeds', align: 'right', cell: (g) => String(g.runs.length) });
  cols.push(
    measureColumn('wasted', 'wastedBytes', 'bytes'),
    measureColumn('kread', 'kread', 'bytes', 'wasted by category'),
    measureColumn('decompress', 'decompress', 'bytes', 'wasted by category'),
    measureColumn('becoming', 'becoming', 'bytes', 'wasted by category'),
    measureColumn('load', 'load', 'bytes', 'wasted by category'),
    measureColumn('becoming', 'failedBecoming', 'count', 'failed loads'),
    measureColumn('load', 'failedLoad', 'count', 'failed loads'),
    measureColumn('loaded', 'modulesLoaded', 'count'),
    measureColumn('attempts', 'loadAttempts', 'count'),
    measureColumn('vmalloc', 'peakVmallocBytes', 'bytes', 'peak'),
    measureColumn('module area', 'peakModuleAreaBytes', 'bytes', 'peak'),
    measureColumn('alloc fail', 'allocFailures', 'count'),
    measureColumn('settle', 'settleNs', 'ns'),
  );
  return cols;
}

/** The terminal table of a set of records (ends with a newline; "no runs" line if empty). */
export function renderTable(records: readonly StormRunRecord[], params?: StormParams, opts: TableOptions = {}): string {
  if (records.length === 0) return 'no runs\n';
  const groups = groupByPoint(records, params);
  const multiSeed = groups.some((g) => g.runs.length > 1);
  const cols = tableColumns(groups, opts);

  const rows: string[][] = [];
  for (const g of groups) {
    rows.push(cols.map((c) => c.cell(g)));
    if (multiSeed && g.runs.length > 1) rows.push(cols.map((c) => (c.range ? c.range(g) : '')));
  }
  const widths = cols.map((c, i) => Math.max(c.title.length, ...rows.map((r) => r[i]!.length)));

  // Group headers span their columns; widen the last column of a group if the label is longer.
  const spans: { group: string; from: number; to: number }[] = [];
  cols.forEach((c, i) => {
    if (c.group === undefined) return;
    const last = spans[spans.length - 1];
    if (last && last.group === c.group && last.to === i - 1) last.to = i;
    else spans.push({ group: c.group, from: i, to: i });
  });
  const SEP = '  ';
  for (const s of spans) {
    const width = widths.slice(s.from, s.to + 1).reduce((a, b) => a + b, 0) + SEP.length * (s.to - s.from);
    const need = s.group.length + 6; // " label " with at least two rule characters each side
    if (need > width) widths[s.to]! += need - width;
  }

  const lines: string[] = [];
  const head = describe(records, params, groups, multiSeed);
  lines.push(...head);
  if (spans.length > 0) {
    let line = '';
    let col = 0;
    for (const s of spans) {
      while (col < s.from) line += ' '.repeat(widths[col++]!) + SEP;
      const width = widths.slice(s.from, s.to + 1).reduce((a, b) => a + b, 0) + SEP.length * (s.to - s.from);
      const label = ` ${s.group} `;
      const fill = Math.max(0, width - label.length);
      line += '─'.repeat(fill >> 1) + label + '─'.repeat(fill - (fill >> 1));
      line += SEP;
      col = s.to + 1;
    }
    lines.push(line.trimEnd());
  }
  lines.push(cols.map((c, i) => pad(c.title, widths[i]!, c.align)).join(SEP).trimEnd());
  for (const r of rows) lines.push(r.map((cell, i) => pad(cell, widths[i]!, cols[i]!.align)).join(SEP).trimEnd());
  return lines.join('\n') + '\n';
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function describe(records: readonly StormRunRecord[], params: StormParams | undefined, groups: PointGroup[], multiSeed: boolean): string[] {
  const machines = [...new Set(records.map((r) => r.machine))].sort();
  const kernels = new Set(records.map((r) => r.kernel));
  const cpus = new Set(records.map((r) => r.cpus));
  let line = `storm on ${machines.join(', ')}: ${plural(records.length, 'run')}, ${plural(kernels.size, 'kernel')} × ${plural(cpus.size, 'CPU count')}`;
  if (multiSeed) line += `; ${groups.length} points, median per point, min–max below where seeds differ`;
  const out = [line];
  if (params && params.seeds.length > 0 && !multiSeed) out.push(`seed ${params.seeds.join(',')}`);
  return out;
}
