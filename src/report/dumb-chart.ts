/**
 * DOC: the gnuplot-`dumb`-style terminal chart (`--chart dumb`) — the upstream graph's look.
 *
 * The upstream discussion of duplicate module loads exchanged its graphs as gnuplot's `set
 * terminal dumb` output pasted into mail: a box frame with tick marks and labels on both axes,
 * every series drawn with a character of its own and its measured points marked with a letter
 * (A, B, C …), and a key naming them. A kernel developer can paste this chart into a mail or a
 * commit message and it reads the same in any font, log or pipe: plain ASCII, no colour, at most
 * 100 columns.
 *
 * It is drawn here by hand on a character grid (no library draws this well): the CPU axis is
 * linear and ends at the data (first to last measured CPU count, on the frame's left and right
 * edges), the value axis starts at 0 and ends at a round number above the largest median. Lines
 * between measured points are rasterised one cell per step along the longer direction; letters
 * are drawn last so every measured point stays visible (where two series share a cell, the
 * later one's letter wins). The key goes in a top corner of the frame where it covers no data,
 * else below the frame. Deterministic: a pure function of the records.
 */
import type { StormParams, StormRunRecord } from '../results/record.js';
import { BYTE_MEASURES, TITLES, chartSeries } from './chart.js';
import { groupByPoint, type Measure } from './records.js';
import { byteUnit } from './units.js';

/** one line character per series, as gnuplot's dumb terminal gives its line types */
export const DUMB_LINES = ['*', '#', '$', '%', '@', '&', '=', '~'];
/** point letters, one per series */
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** the widest chart drawn, in columns */
export const DUMB_MAX_WIDTH = 100;

export interface DumbChartOptions {
  /** total width in columns (default 79, gnuplot's; at most 100) */
  width?: number;
  /** total height in rows of the frame and its labels (default 24, gnuplot's) */
  height?: number;
  /** what to plot (default wastedBytes) */
  measure?: Measure;
}

/** The glyph pair of series J: its line character and its point letter. */
export function dumbGlyphs(j: number): { line: string; point: string } {
  return { line: DUMB_LINES[j % DUMB_LINES.length]!, point: LETTERS[j % LETTERS.length]! };
}

/** Round tick steps: 1, 2, 2.5, 5 × 10^k, the smallest giving at most MAX ticks across SPAN. */
export function niceStep(span: number, max: number): number {
  if (!(span > 0)) return 1;
  const raw = span / Math.max(1, max);
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

/** decimals needed to print multiples of STEP exactly (0.25 → 2, 5 → 0) */
function decimalsOf(step: number): number {
  for (let d = 0; d < 6; d++) if (Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) < 1e-9) return d;
  return 6;
}

/** The dumb chart of a set of records (ends with a newline). */
export function renderDumbChart(records: readonly StormRunRecord[], params?: StormParams, opts: DumbChartOptions = {}): string {
  const measure = opts.measure ?? 'wastedBytes';
  if (records.length === 0) return 'no runs\n';
  const multiSeed = groupByPoint(records, params).some((g) => g.runs.length > 1);
  const series = chartSeries(records, params, measure);
  const width = Math.min(DUMB_MAX_WIDTH, Math.max(40, opts.width ?? 79));
  const height = Math.max(12, opts.height ?? 24);

  // Value axis: 0 … a round number at or above the largest median.
  const isBytes = BYTE_MEASURES.has(measure);
  const rawMax = Math.max(0, ...series.flatMap((s) => s.points.map((p) => p[1])));
  const [unitName, div] = isBytes ? byteUnit(rawMax) : ['', 1];
  const frameRows = height - 4; // title, blank line, x labels, x title
  const plotRows = frameRows - 1; // rows between the top and bottom edges, counted as steps
  const yStep = niceStep(rawMax / div > 0 ? rawMax / div : 1, Math.max(2, Math.floor(plotRows / 3)));
  const yTop = Math.max(yStep, Math.ceil(rawMax / div / yStep - 1e-9) * yStep);
  const yDec = decimalsOf(yStep);
  const yTicks: number[] = [];
  for (let v = 0; v <= yTop + yStep / 2; v += yStep) yTicks.push(Number(v.toFixed(yDec)));
  const yLabel = (v: number) => v.toFixed(yDec);
  const labelWidth = Math.max(unitName.length, ...yTicks.map((v) => yLabel(v).length)) + 1;

  // CPU axis: the data's range, the frame's edges at the first and last CPU counts.
  const cpus = [...new Set(records.map((r) => r.cpus))].sort((a, b) => a - b);
  const xmin = cpus[0]!;
  const xmax = cpus[cpus.length - 1]!;
  const L = labelWidth; // left edge column
  const R = width - 1; // right edge column
  const T = 0; // top edge row (of the frame)
  const B = frameRows - 1; // bottom edge row
  const colOf = (x: number) => (xmax === xmin ? (L + R) / 2 : L + ((x - xmin) / (xmax - xmin)) * (R - L));
  const rowOf = (y: number) => B - (y / yTop) * (B - T);

  const grid: string[][] = Array.from({ length: frameRows }, () => Array.from(' '.repeat(width)));
  const put = (r: number, c: number, ch: string) => {
    if (r >= 0 && r < frameRows && c >= 0 && c < width) grid[r]![c] = ch;
  };
  // The frame, with gnuplot's mirrored tick marks.
  for (let c = L; c <= R; c++) {
    put(T, c, '-');
    put(B, c, '-');
  }
  for (let r = T; r <= B; r++) {
    put(r, L, '|');
    put(r, R, '|');
  }
  for (const [r, c] of [[T, L], [T, R], [B, L], [B, R]] as const) put(r, c, '+');
  for (const v of yTicks) {
    const r = Math.round(rowOf(v));
    const label = yLabel(v).padStart(labelWidth - 1);
    for (let k = 0; k < label.length; k++) put(r, k, label[k]!);
    if (r === T || r === B) continue;
    put(r, L + 1, '-');
    put(r, L + 2, '+');
    put(r, R - 2, '+');
    put(r, R - 1, '-');
  }
  const xStep = niceStep(xmax - xmin, Math.max(2, Math.floor((R - L) / 10)));
  const xTicks: number[] = [];
  for (let v = Math.ceil(xmin / xStep) * xStep; v <= xmax; v += xStep) xTicks.push(v);
  for (const v of xTicks) {
    const c = Math.round(colOf(v));
    if (c <= L || c >= R) continue;
    put(B, c, '+');
    put(B - 1, c, '+');
    put(T, c, '+');
    put(T + 1, c, '+');
  }

  // The lines, then the measured points over them.
  const inside = (r: number, c: number) => r >= T && r <= B && c >= L && c <= R;
  const drawn: boolean[][] = grid.map((row) => row.map(() => false));
  series.forEach((s, j) => {
    const { line } = dumbGlyphs(j);
    const pts = s.points.map(([x, y]) => [colOf(x), rowOf(y / div)] as const);
    for (let i = 1; i < pts.length; i++) {
      const [c0, r0] = pts[i - 1]!;
      const [c1, r1] = pts[i]!;
      const steps = Math.max(1, Math.ceil(Math.max(Math.abs(c1 - c0), Math.abs(r1 - r0))));
      for (let k = 0; k <= steps; k++) {
        const c = Math.round(c0 + ((c1 - c0) * k) / steps);
        const r = Math.round(r0 + ((r1 - r0) * k) / steps);
        if (!inside(r, c)) continue;
        put(r, c, line);
        drawn[r]![c] = true;
      }
    }
  });
  series.forEach((s, j) => {
    const { point } = dumbGlyphs(j);
    for (const [x, y] of s.points) {
      const c = Math.round(colOf(x));
      const r = Math.round(rowOf(y / div));
      put(r, c, point);
      drawn[r]![c] = true;
    }
  });

  // The key: `name ***A***` per series, in a top corner that covers no data, else below.
  const names = series.map((s) => s.name);
  const nameWidth = Math.max(...names.map((n) => n.length));
  const keyLines = series.map((s, j) => {
    const { line, point } = dumbGlyphs(j);
    return `${s.name.padStart(nameWidth)} ${line.repeat(3)}${point}${line.repeat(3)}`;
  });
  const keyWidth = Math.max(...keyLines.map((l) => l.length));
  const free = (c0: number): boolean => {
    for (let r = T + 1; r <= T + keyLines.length; r++) for (let c = c0 - 1; c <= c0 + keyWidth; c++) if (drawn[r]?.[c]) return false;
    return true;
  };
  const fitsInside = keyLines.length <= B - T - 3 && keyWidth <= R - L - 8;
  const corners = [L + 4, R - 3 - keyWidth];
  const at = fitsInside ? corners.find(free) : undefined;
  if (at !== undefined) {
    // the key's box is cleared (the mirrored tick marks under it) with a blank cell each side
    keyLines.forEach((l, i) => {
      for (let c = at - 1; c <= at + keyWidth; c++) put(T + 1 + i, c, ' ');
      Array.from(l).forEach((ch, k) => put(T + 1 + i, at + k, ch));
    });
  }

  // X tick labels: the ends always, the round ticks where they fit.
  const labels = Array.from(' '.repeat(width + 8));
  const taken: [number, number][] = [];
  const placeLabel = (v: number) => {
    const text = String(v);
    const c = Math.round(colOf(v));
    const start = Math.min(Math.max(c - (text.length >> 1), 0), width - text.length);
    const end = start + text.length;
    if (taken.some(([a, b]) => start <= b && end >= a)) return;
    taken.push([start, end]);
    for (let k = 0; k < text.length; k++) labels[start + k] = text[k]!;
  };
  for (const v of [xmin, xmax, ...xTicks]) placeLabel(v);

  // ASCII throughout (the other chart's em dashes are hyphens here): it is pasted into mail
  const title = `${TITLES[measure] ?? measure}${isBytes ? ` (${unitName})` : ''} vs CPUs - ${[...new Set(records.map((r) => r.machine))].sort().join(', ')}${multiSeed ? ' - median of seeds' : ''}`;
  const center = (text: string) => ' '.repeat(Math.max(0, L + Math.floor((R - L - text.length) / 2))) + text;
  // a title wider than the chart is split at its last ' - ', so no line passes the width
  const cut = title.lastIndexOf(' - ');
  const titles = title.length > width - L && cut > 0 ? [title.slice(0, cut), title.slice(cut + 3)] : [title];
  const out = [...titles.map(center), isBytes ? unitName.padStart(labelWidth - 1) : ''];
  out.push(...grid.map((row) => row.join('').trimEnd()));
  out.push(labels.join('').trimEnd(), center('CPUs'));
  if (at === undefined) out.push('', ...keyLines.map((l) => ' '.repeat(L + 1) + l));
  return out.map((l) => l.trimEnd()).join('\n') + '\n';
}
