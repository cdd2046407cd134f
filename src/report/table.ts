/**
 * DOC: the storm's terminal table — one row per (CPU count, kernel) point.
 *
 * This is what a user reads first after a sweep, so it carries every per-run measure the issue
 * names, in fixed-width columns that line up in any terminal and in a CI log (plain text, no
 * colour). With several seeds per point the row holds the median and a second line under it the
 * spread (min–max): one seed's boot is one interleaving, and the spread says how much the
 * interleaving matters at that CPU count.
 *
 * Thirteen measures do not fit in one line of a terminal (150–190 columns), so the table is
 * wrapped by design into stacked blocks of at most 100 columns, the key columns (cpus, kernel …)
 * repeated at the left of each: first what the duplicates cost (waste by category, failed loads),
 * then the boot (loads, peak memory, allocation failures, settle time). The HTML report and
 * `--format md` show the same columns in one table.
 */
import type { StormParams, StormRunRecord } from '../results/record.js';
import { groupByPoint, summarize, type Measure, type PointGroup } from './records.js';
import { formatByteRange, formatBytes, formatCount, formatCountRange, formatNs, formatNsRange } from './units.js';

type Kind = 'bytes' | 'count' | 'ns';

export interface Column {
  group?: string;
  title: string;
  /** the title without its group header, where there is none (Markdown): "failed becoming" */
  fullTitle: string;
  /**
   * which block of the text table: the key columns start every block, then what the duplicates
   * cost (waste, failed loads), then the boot (loads, peaks, time)
   */
  part: 'key' | 'cost' | 'boot';
  /** text columns are left-aligned, numbers right-aligned */
  align: 'left' | 'right';
  cell: (g: PointGroup) => string;
  range?: (g: PointGroup) => string;
}

/** a group header's word in front of a column title, where no header spans the columns */
const GROUP_WORD: Readonly<Record<string, string>> = { 'wasted by category': 'wasted', 'failed loads': 'failed', peak: 'peak' };

function measureColumn(part: Column['part'], title: string, m: Measure, kind: Kind, group?: string): Column {
  const fmt = kind === 'bytes' ? formatBytes : kind === 'ns' ? formatNs : formatCount;
  const fmtRange = kind === 'bytes' ? formatByteRange : kind === 'ns' ? formatNsRange : formatCountRange;
  const col: Column = {
    title,
    fullTitle: group !== undefined ? `${GROUP_WORD[group] ?? group} ${title}` : title,
    part,
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
  const key = (title: string, align: Column['align'], cell: Column['cell']): Column => ({ title, fullTitle: title, part: 'key', align, cell });
  const cols: Column[] = [key('cpus', 'right', (g) => String(g.cpus))];
  if (opts.machineColumn || machines.size > 1) cols.push(key('machine', 'left', (g) => g.machine));
  cols.push(key('kernel', 'left', (g) => g.kernel));
  if (multiSeed) cols.push(key('seeds', 'right', (g) => String(g.runs.length)));
  cols.push(
    measureColumn('cost', 'wasted', 'wastedBytes', 'bytes'),
    measureColumn('cost', 'kread', 'kread', 'bytes', 'wasted by category'),
    measureColumn('cost', 'decompress', 'decompress', 'bytes', 'wasted by category'),
    measureColumn('cost', 'becoming', 'becoming', 'bytes', 'wasted by category'),
    measureColumn('cost', 'load', 'load', 'bytes', 'wasted by category'),
    measureColumn('cost', 'becoming', 'failedBecoming', 'count', 'failed loads'),
    measureColumn('cost', 'load', 'failedLoad', 'count', 'failed loads'),
    measureColumn('boot', 'loaded', 'modulesLoaded', 'count'),
    measureColumn('boot', 'attempts', 'loadAttempts', 'count'),
    measureColumn('boot', 'vmalloc', 'peakVmallocBytes', 'bytes', 'peak'),
    measureColumn('boot', 'module area', 'peakModuleAreaBytes', 'bytes', 'peak'),
    measureColumn('boot', 'alloc fail', 'allocFailures', 'count'),
    measureColumn('boot', 'settle', 'settleNs', 'ns'),
  );
  return cols;
}

/** The widest a text table may be: a terminal, a CI log, a mail quoted twice (issue 12). */
export const TABLE_MAX_WIDTH = 100;

const SEP = '  ';

/** Consecutive columns of one group in a block: the group header spans them. */
interface Span {
  group: string;
  from: number;
  to: number;
}

function spansOf(cols: readonly Column[]): Span[] {
  const spans: Span[] = [];
  cols.forEach((c, i) => {
    if (c.group === undefined) return;
    const last = spans[spans.length - 1];
    if (last && last.group === c.group && last.to === i - 1) last.to = i;
    else spans.push({ group: c.group, from: i, to: i });
  });
  return spans;
}

const spanWidth = (widths: readonly number[], s: Span) => widths.slice(s.from, s.to + 1).reduce((a, b) => a + b, 0) + SEP.length * (s.to - s.from);

/** A block's column widths: its cells', the last column of a group widened where the label is longer. */
function blockWidths(cols: readonly Column[], cellWidths: readonly number[]): number[] {
  const widths = [...cellWidths];
  for (const s of spansOf(cols)) {
    const need = s.group.length + 6; // " label " with at least two rule characters each side
    const width = spanWidth(widths, s);
    if (need > width) widths[s.to]! += need - width;
  }
  return widths;
}

const totalWidth = (widths: readonly number[]) => widths.reduce((a, b) => a + b, 0) + SEP.length * (widths.length - 1);

/**
 * Split the columns into stacked blocks no wider than `max`, the key columns (cpus, machine,
 * kernel, seeds) repeated in each: the cost of the duplicates (waste, failed loads) first, then
 * the boot (loads, peaks, time). A part wider than `max` is split again, packed left to right; a
 * group stays whole unless that costs an extra block (its label then repeats over each piece).
 * Returns column indices per block.
 */
export function tableBlocks(cols: readonly Column[], cellWidths: readonly number[], max = TABLE_MAX_WIDTH): number[][] {
  const key = cols.flatMap((c, i) => (c.part === 'key' ? [i] : []));
  const fits = (idx: number[]) => totalWidth(blockWidths([...key, ...idx].map((i) => cols[i]!), [...key, ...idx].map((i) => cellWidths[i]!))) <= max;
  // units of one part: a group's columns together, other columns alone
  const parts: number[][][] = [];
  let part: Column['part'] | undefined;
  for (let i = 0; i < cols.length; ) {
    const c = cols[i]!;
    if (c.part === 'key') {
      i++;
      continue;
    }
    let j = i + 1;
    while (c.group !== undefined && j < cols.length && cols[j]!.group === c.group && cols[j]!.part === c.part) j++;
    if (c.part !== part) parts.push([]);
    part = c.part;
    parts[parts.length - 1]!.push(Array.from({ length: j - i }, (_, k) => i + k));
    i = j;
  }
  /** greedy packing of units; a unit wider than a block on its own goes column by column */
  const pack = (units: number[][]): number[][] => {
    const blocks: number[][] = [];
    let cur: number[] = [];
    const flush = () => {
      if (cur.length > 0) blocks.push(cur);
      cur = [];
    };
    for (const unit of units) {
      if (fits([...cur, ...unit])) cur.push(...unit);
      else if (fits(unit)) {
        flush();
        cur.push(...unit);
      } else {
        for (const k of unit) {
          if (cur.length > 0 && !fits([...cur, k])) flush();
          cur.push(k);
        }
      }
    }
    flush();
    return blocks;
  };
  const blocks: number[][] = [];
  for (const units of parts) {
    const whole = pack(units);
    const split = pack(units.flat().map((k) => [k]));
    blocks.push(...(whole.length <= split.length ? whole : split));
  }
  return blocks.map((b) => [...key, ...b]);
}

/** The cells of a point's rows: the median row, then (several seeds that differ) the min–max row. */
export function tableRows(groups: readonly PointGroup[], cols: readonly Column[]): { cells: string[]; range: boolean }[] {
  const multiSeed = groups.some((g) => g.runs.length > 1);
  const rows: { cells: string[]; range: boolean }[] = [];
  for (const g of groups) {
    rows.push({ cells: cols.map((c) => c.cell(g)), range: false });
    if (multiSeed && g.runs.length > 1) {
      const cells = cols.map((c) => (c.range ? c.range(g) : ''));
      if (cells.some((x) => x !== '')) rows.push({ cells, range: true });
    }
  }
  return rows;
}

function renderBlock(cols: readonly Column[], rows: readonly string[][], cellWidths: readonly number[]): string[] {
  const widths = blockWidths(cols, cellWidths);
  const spans = spansOf(cols);
  const lines: string[] = [];
  if (spans.length > 0) {
    let line = '';
    let col = 0;
    for (const s of spans) {
      while (col < s.from) line += ' '.repeat(widths[col++]!) + SEP;
      const width = spanWidth(widths, s);
      const label = ` ${s.group} `;
      const fill = Math.max(0, width - label.length);
      line += '─'.repeat(fill >> 1) + label + '─'.repeat(fill - (fill >> 1));
      line += SEP;
      col = s.to + 1;
    }
    lines.push(line.trimEnd());
  }
  lines.push(cols.map((c, i) => pad(c.title, widths[i]!, c.align)).join(SEP).trimEnd());
  for (const r of rows) {
    // a min–max row with nothing to say in this block is left out
    if (r.every((x) => x === '')) continue;
    lines.push(r.map((cell, i) => pad(cell, widths[i]!, cols[i]!.align)).join(SEP).trimEnd());
  }
  return lines;
}

/**
 * The terminal table of a set of records (ends with a newline; "no runs" line if empty): stacked
 * blocks of at most TABLE_MAX_WIDTH columns, the key columns repeated in each, a blank line between.
 */
export function renderTable(records: readonly StormRunRecord[], params?: StormParams, opts: TableOptions = {}): string {
  if (records.length === 0) return 'no runs\n';
  const groups = groupByPoint(records, params);
  const multiSeed = groups.some((g) => g.runs.length > 1);
  const cols = tableColumns(groups, opts);
  const rows = tableRows(groups, cols);
  const cellWidths = cols.map((c, i) => Math.max(c.title.length, ...rows.map((r) => r.cells[i]!.length)));

  const lines: string[] = [...describe(records, params, groups, multiSeed)];
  tableBlocks(cols, cellWidths).forEach((idx, b) => {
    if (b > 0) lines.push('');
    const blockRows = rows.map((r) => (r.range ? idx.map((i) => (cols[i]!.part === 'key' ? '' : r.cells[i]!)) : idx.map((i) => r.cells[i]!)));
    lines.push(...renderBlock(idx.map((i) => cols[i]!), blockRows, idx.map((i) => cellWidths[i]!)));
  });
  return lines.join('\n') + '\n';
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function describe(records: readonly StormRunRecord[], params: StormParams | undefined, groups: PointGroup[], multiSeed: boolean): string[] {
  const machines = [...new Set(records.map((r) => r.machine))].sort();
  const kernels = new Set(records.map((r) => r.kernel));
  const cpus = new Set(records.map((r) => r.cpus));
  const out = [`storm on ${machines.join(', ')}: ${plural(records.length, 'run')}, ${plural(kernels.size, 'kernel')} × ${plural(cpus.size, 'CPU count')}`];
  // its own line: the first stays within the table's width
  if (multiSeed) out.push(`${groups.length} points, median per point, min–max below where seeds differ`);
  if (params && params.seeds.length > 0 && !multiSeed) out.push(`seed ${params.seeds.join(',')}`);
  return out;
}
