/**
 * DOC: the terminal chart — wasted bytes vs CPU count, one line per kernel preset.
 *
 * The upstream discussion settled on one picture: a gnuplot graph of the virtual memory wasted at
 * boot against the CPU count, one line per kernel. This draws that picture in the terminal with
 * asciichart, so a sweep answers "how does it grow, and what did the fix do" without leaving the
 * shell.
 *
 * asciichart spaces samples evenly and draws every series with the same box characters, while
 * CPU counts are uneven (1, 8, 64, 128 …) and the lines must be told apart without colour (CI
 * logs, pipes). So each series is resampled on an even CPU axis (linear between measured points,
 * its end value held beyond its own range), drawn alone with its own line style (light, heavy,
 * double, dashed …) on a shared scale, and the drawings are overlaid cell by cell; colour is added
 * only on request. A CPU axis with the measured counts as ticks and a legend complete it.
 */
import asciichart from 'asciichart';
import type { StormParams, StormRunRecord } from '../results/record.js';
import { groupByPoint, summarize, type Measure } from './records.js';
import { byteUnit } from './units.js';

/** Line styles, as asciichart's symbols[4..9]: ─ ╰ ╭ ╮ ╯ │ (axis symbols [0..3] are shared). */
const STYLES: string[][] = [
  ['─', '╰', '╭', '╮', '╯', '│'],
  ['━', '┗', '┏', '┓', '┛', '┃'],
  ['═', '╚', '╔', '╗', '╝', '║'],
  ['┄', '└', '┌', '┐', '┘', '┆'],
  ['┅', '┗', '┏', '┓', '┛', '┇'],
  ['·', '·', '·', '·', '·', '·'],
  ['*', '*', '*', '*', '*', '*'],
  ['+', '+', '+', '+', '+', '+'],
];
const AXIS = ['┼', '┤', '╶', '╴'];
const COLORS = ['\x1b[34m', '\x1b[31m', '\x1b[32m', '\x1b[35m', '\x1b[36m', '\x1b[33m', '\x1b[94m', '\x1b[91m'];
const RESET = '\x1b[0m';

export interface ChartOptions {
  /** plot columns (default 72) */
  width?: number;
  /** plot rows (default 16) */
  height?: number;
  /** ANSI colours per line (default off: output must read the same in a log) */
  color?: boolean;
  /** what to plot (default wastedBytes); byte measures are scaled to a binary unit */
  measure?: Measure;
}

export const BYTE_MEASURES = new Set<Measure>(['wastedBytes', 'kread', 'decompress', 'becoming', 'load', 'peakVmallocBytes', 'peakModuleAreaBytes']);
export const TITLES: Partial<Record<Measure, string>> = {
  wastedBytes: 'virtual memory wasted by duplicate loads',
  failedBecoming: 'failed loads (becoming)',
  failedLoad: 'failed loads (load)',
  peakModuleAreaBytes: 'peak module area use',
  peakVmallocBytes: 'peak vmalloc use',
};

export interface Series {
  name: string;
  points: [number, number][];
}

/** Linear interpolation on sorted points; the end values are held beyond the series' range. */
function sample(points: [number, number][], x: number): number {
  const first = points[0]!;
  const last = points[points.length - 1]!;
  if (x <= first[0]) return first[1];
  if (x >= last[0]) return last[1];
  for (let i = 1; i < points.length; i++) {
    const [x1, y1] = points[i]!;
    if (x <= x1) {
      const [x0, y0] = points[i - 1]!;
      return y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
    }
  }
  return last[1];
}

/**
 * One series per kernel (per machine × kernel when machines differ), in report order: the
 * median of a measure at each CPU count, points sorted by CPUs.
 */
export function chartSeries(records: readonly StormRunRecord[], params: StormParams | undefined, measure: Measure): Series[] {
  const groups = groupByPoint(records, params);
  const multiMachine = new Set(records.map((r) => r.machine)).size > 1;
  const series: Series[] = [];
  const byName = new Map<string, Series>();
  for (const g of groups) {
    const name = multiMachine ? `${g.machine} ${g.kernel}` : g.kernel;
    let s = byName.get(name);
    if (!s) {
      s = { name, points: [] };
      byName.set(name, s);
    }
    s.points.push([g.cpus, summarize(g, measure).median]);
  }
  // groupByPoint orders by cpus first; legend order is the kernels' first appearance in it, which
  // is the sweep's kernel order at the smallest CPU count.
  for (const s of byName.values()) series.push(s);
  for (const s of series) s.points.sort((a, b) => a[0] - b[0]);
  return series;
}

/** The terminal chart of a set of records (ends with a newline). */
export function renderChart(records: readonly StormRunRecord[], params?: StormParams, opts: ChartOptions = {}): string {
  const measure = opts.measure ?? 'wastedBytes';
  if (records.length === 0) return 'no runs\n';
  const groups = groupByPoint(records, params);
  const multiSeed = groups.some((g) => g.runs.length > 1);
  const series = chartSeries(records, params, measure);

  const cpus = [...new Set(records.map((r) => r.cpus))].sort((a, b) => a - b);
  const xmin = cpus[0]!;
  const xmax = cpus[cpus.length - 1]!;
  const width = xmin === xmax ? 1 : Math.max(8, opts.width ?? 72);
  const height = Math.max(2, opts.height ?? 16);

  const isBytes = BYTE_MEASURES.has(measure);
  const rawMax = Math.max(0, ...series.flatMap((s) => s.points.map((p) => p[1])));
  const [unitName, div] = isBytes ? byteUnit(rawMax) : ['', 1];
  const ymaxScaled = rawMax / div;
  const ymax = ymaxScaled > 0 ? ymaxScaled : 1;
  const decimals = ymax < 10 ? 2 : ymax < 100 ? 1 : 0;
  const labelWidth = Math.max(ymax.toFixed(decimals).length, (0).toFixed(decimals).length) + 1;
  const format = (v: number) => v.toFixed(decimals).padStart(labelWidth);

  const xs = Array.from({ length: width + 1 }, (_, i) => (width === 0 || xmax === xmin ? xmin : xmin + ((xmax - xmin) * i) / width));
  const drawings = series.map((s, j) => {
    const style = STYLES[j % STYLES.length]!;
    const values = xs.map((x) => sample(s.points, x) / div);
    return asciichart
      .plot(values, { min: 0, max: ymax, height, offset: 2, format, symbols: [...AXIS, ...style] })
      .split('\n')
      .map((line) => Array.from(line));
  });

  // Overlay: later series are drawn over earlier ones; remember which series owns each cell.
  const grid = drawings[0]!.map((row) => [...row]);
  const owner: number[][] = grid.map((row) => row.map((_, c) => (c > labelWidth && row[c] !== ' ' ? 0 : -1)));
  for (let j = 1; j < drawings.length; j++) {
    drawings[j]!.forEach((row, r) => {
      row.forEach((ch, c) => {
        if (c < labelWidth) return;
        if (c === labelWidth) {
          if (ch === AXIS[0]) grid[r]![c] = ch;
          return;
        }
        if (ch !== ' ') {
          grid[r]![c] = ch;
          owner[r]![c] = j;
        }
      });
    });
  }
  const paint = (ch: string, j: number) => (opts.color && j >= 0 ? `${COLORS[j % COLORS.length]}${ch}${RESET}` : ch);
  const body = grid.map((row, r) => row.map((ch, c) => paint(ch, owner[r]![c]!)).join('').trimEnd());

  // CPU axis: ticks at the measured counts, labels where they fit.
  const axis = Array.from(' '.repeat(labelWidth) + '└' + '─'.repeat(width));
  const labels = Array.from(' '.repeat(labelWidth + width + 8));
  const taken: [number, number][] = [];
  const colOf = (cpu: number) => labelWidth + (xmax === xmin ? 0 : Math.round(((cpu - xmin) / (xmax - xmin)) * width));
  for (const cpu of cpus) if (colOf(cpu) > labelWidth) axis[colOf(cpu)] = '┬';
  // Label the first and last counts always, the others where they fit.
  const order = cpus.length > 1 ? [cpus[0]!, cpus[cpus.length - 1]!, ...cpus.slice(1, -1)] : cpus;
  for (const cpu of order) {
    const text = String(cpu);
    const start = Math.max(colOf(cpu) - (text.length >> 1), 0);
    const end = start + text.length;
    if (taken.some(([a, b]) => start <= b && end >= a)) continue;
    taken.push([start, end]);
    while (labels.length < end) labels.push(' ');
    for (let k = 0; k < text.length; k++) labels[start + k] = text[k]!;
  }

  const title = TITLES[measure] ?? measure;
  const unit = isBytes ? ` (${unitName})` : '';
  const machines = [...new Set(records.map((r) => r.machine))].sort().join(', ');
  const lines = [`${title}${unit} vs CPUs — ${machines}${multiSeed ? ' — median of seeds' : ''}`, ''];
  lines.push(...body, axis.join(''), `${labels.join('').trimEnd()}  CPUs`, '');
  const legend = series.map((s, j) => {
    const st = STYLES[j % STYLES.length]![0]!;
    return `${paint(st.repeat(3), j)} ${s.name}`;
  });
  lines.push(' '.repeat(labelWidth + 1) + legend.join('   '));
  return lines.join('\n') + '\n';
}
