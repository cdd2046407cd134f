/**
 * DOC: the storm's charts as SVG — rendered in Node, no browser.
 *
 * Three pictures answer the issue's questions: how much is wasted as CPUs grow (the upstream
 * graph, optionally split by MODULE_STATS category), how many loads fail (becoming / load), and
 * whether the module area runs out (peak use against the area's size). They are declared in
 * vega-lite (a grammar of graphics: data → encodings, no drawing code), compiled to vega and
 * rendered headless with `renderer: 'none'`, so `--svg` works on a server and in CI.
 *
 * The data given to vega is pre-aggregated here (median and min–max over seeds per point), so the
 * pictures agree with the table to the byte. vega numbers its clip paths with a process-wide
 * counter; ids are renumbered after rendering so that the same input gives the same bytes, and
 * prefixed so that several charts can be inlined in one HTML page.
 */
import type { TopLevelSpec } from 'vega-lite';
import { CATEGORIES, type StormParams, type StormRunRecord } from '../results/record.js';
import { groupByPoint, summarize, type Measure, type PointGroup } from './records.js';
import { BYTE_MEASURES } from './chart.js';
import { byteUnit, formatBytes } from './units.js';

/** How the waste chart shows MODULE_STATS categories. */
export type CategoryMode = 'total' | 'stacked' | 'grouped';

export interface SvgOptions {
  /** waste chart: one line per preset ('total', default) or bars by category per preset */
  categories?: CategoryMode;
  /** the module area's size in bytes, drawn as a rule on the peak-module-area chart */
  moduleAreaBytes?: number;
  /** plot size in pixels (defaults 560 × 280) */
  width?: number;
  height?: number;
}

export interface ChartSpecs {
  waste: TopLevelSpec;
  failed: TopLevelSpec;
  moduleArea: TopLevelSpec;
}

export type ChartName = keyof ChartSpecs;
export const CHART_NAMES: ChartName[] = ['waste', 'failed', 'moduleArea'];

function seriesName(g: PointGroup, multiMachine: boolean): string {
  return multiMachine ? `${g.machine} ${g.kernel}` : g.kernel;
}

/** Round to 6 significant digits: stable text in the SVG, no float noise. */
function round6(x: number): number {
  return Number(x.toPrecision(6));
}

interface Row {
  series: string;
  cpus: number;
  median: number;
  min: number;
  max: number;
  /** the point's exact values, for its tooltip (an SVG <title>) */
  tip: string;
  [k: string]: string | number;
}

/** how a measure's exact value reads in a tooltip: bytes in a unit and exactly, counts as counts */
function exact(m: Measure, v: number): string {
  if (!BYTE_MEASURES.has(m)) return `${v}`;
  return `${formatBytes(v)} (${v} bytes)`;
}

/** `v6.1, 64 CPUs: median wasted 1.23 GiB (1320702443 bytes); min–max over 3 seeds: … – …` */
function tipOf(series: string, g: PointGroup, m: Measure, what: string): string {
  const s = summarize(g, m);
  const n = g.runs.length;
  const spreadText = n > 1 ? `; ${s.min === s.max ? `the same in all ${n} seeds` : `min–max over ${n} seeds: ${exact(m, s.min)} – ${exact(m, s.max)}`}` : ` (seed ${g.runs[0]!.seed})`;
  return `${series}, ${g.cpus} CPU${g.cpus === 1 ? '' : 's'}: ${n > 1 ? 'median ' : ''}${what} ${exact(m, s.median)}${spreadText}`;
}

function rows(groups: PointGroup[], multiMachine: boolean, m: Measure, div: number, what: string, extra: Record<string, string | number> = {}): Row[] {
  return groups.map((g) => {
    const s = summarize(g, m);
    const series = seriesName(g, multiMachine);
    return { series, cpus: g.cpus, median: round6(s.median / div), min: round6(s.min / div), max: round6(s.max / div), tip: tipOf(series, g, m, what), ...extra };
  });
}

/**
 * One colour per kernel (tableau10, then tableau20's lighter tones; a sweep of more than 20
 * kernels reuses them in order): a kernel keeps its colour
 * in every chart of a report, and no limit line or category bar uses these.
 */
export const KERNEL_COLORS = [
  '#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac',
  '#9ecae9', '#ffbf79', '#ff9d98', '#88d27a', '#b79a20', '#f2cf5b', '#d6a5c9', '#fcbfd2', '#d8b5a5', '#79706e',
];
/** limit and threshold lines: a neutral dark grey, dashed, never a kernel's colour */
export const LIMIT_COLOR = '#3b3b3b';
/** the MODULE_STATS categories' bars: browns and golds, none of them a kernel's colour */
const CATEGORY_COLORS = ['#843c39', '#ad494a', '#8c6d31', '#e7ba52'];

const CONFIG = {
  font: 'sans-serif',
  background: 'white',
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14, anchor: 'start' as const, subtitleFontSize: 12, subtitleColor: '#5b6475' },
};

/**
 * Line-per-series layers with a min–max band when there are several seeds per point. The CPU
 * axis ends at the data (the first and last CPU counts, no rounding out to a nice number); the
 * measured points are a layer of their own whose `description` is the point's tip: vega writes
 * it as the point's aria-label, which `pointTitles` turns into an SVG <title> (a tooltip).
 */
function lineLayers(values: Row[], multiSeed: boolean, yTitle: string, color: { field: string; title: string; sort: string[] }) {
  const cpus = values.map((v) => v.cpus);
  const domain = [Math.min(...cpus), Math.max(...cpus)];
  const x = { field: 'cpus', type: 'quantitative' as const, title: 'CPUs', scale: { domain, nice: false, zero: false } };
  const colorEnc = {
    field: color.field,
    type: 'nominal' as const,
    title: color.title,
    sort: color.sort,
    scale: { domain: color.sort, range: color.sort.map((_, i) => KERNEL_COLORS[i % KERNEL_COLORS.length]!) },
    legend: { symbolType: 'stroke', symbolStrokeWidth: 2.5, symbolOpacity: 1 },
  };
  const layers: Record<string, unknown>[] = [];
  if (multiSeed) {
    layers.push({
      mark: { type: 'area', opacity: 0.18 },
      encoding: { x, y: { field: 'min', type: 'quantitative', title: yTitle }, y2: { field: 'max' }, color: colorEnc },
    });
  }
  layers.push({
    mark: { type: 'line', strokeWidth: 2 },
    encoding: { x, y: { field: 'median', type: 'quantitative', title: yTitle }, color: colorEnc, description: { field: 'series' } },
  });
  layers.push({
    mark: { type: 'point', filled: true, size: 36, opacity: 1 },
    encoding: { x, y: { field: 'median', type: 'quantitative', title: yTitle }, color: colorEnc, description: { field: 'tip' } },
  });
  return { data: { values }, layer: layers };
}

/** The vega-lite specs of the three charts. */
export function chartSpecs(records: readonly StormRunRecord[], params?: StormParams, opts: SvgOptions = {}): ChartSpecs {
  const groups = groupByPoint(records, params);
  const multiMachine = new Set(records.map((r) => r.machine)).size > 1;
  const multiSeed = groups.some((g) => g.runs.length > 1);
  const order: string[] = [];
  for (const g of groups) {
    const n = seriesName(g, multiMachine);
    if (!order.includes(n)) order.push(n);
  }
  const width = opts.width ?? 560;
  const height = opts.height ?? 280;
  // the seeds' note is a subtitle: vega sizes a chart by its title's width as estimated without
  // fonts in Node (~0.6 em a character, too wide), and one long title made the waste chart ~940 px
  // wide around a 560 px plot
  const note = multiSeed ? 'median, band: min–max over seeds' : undefined;
  const titled = (text: string, sub = note) => (sub !== undefined ? { text, subtitle: sub } : text);
  const series = { field: 'series', title: 'kernel', sort: order };

  // Waste.
  const wasteMax = Math.max(0, ...groups.map((g) => summarize(g, 'wastedBytes').max));
  const [wUnit, wDiv] = byteUnit(wasteMax);
  let waste: TopLevelSpec;
  const mode = opts.categories ?? 'total';
  if (mode === 'total') {
    waste = {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      title: titled('Virtual memory wasted by duplicate loads vs CPUs'),
      width,
      height,
      config: CONFIG,
      ...lineLayers(rows(groups, multiMachine, 'wastedBytes', wDiv, 'wasted'), multiSeed, `wasted (${wUnit})`, series),
    } as unknown as TopLevelSpec;
  } else {
    const values: Row[] = [];
    CATEGORIES.forEach((c, i) => values.push(...rows(groups, multiMachine, c, wDiv, `wasted (${c})`, { category: c, categoryIndex: i })));
    const catMax = Math.max(0, ...values.map((v) => v.median));
    const [cUnit, cDiv] = mode === 'grouped' ? byteUnit(catMax * wDiv) : [wUnit, wDiv];
    if (cDiv !== wDiv) for (const v of values) v.median = round6((v.median * wDiv) / cDiv);
    waste = {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      title: titled('Virtual memory wasted by duplicate loads vs CPUs, by category', multiSeed ? 'median over seeds' : undefined),
      data: { values },
      config: CONFIG,
      facet: { row: { field: 'series', type: 'nominal', title: 'kernel', sort: order } },
      spec: {
        width,
        height: Math.max(120, Math.round(height / 2)),
        mark: 'bar',
        encoding: {
          description: { field: 'tip' },
          x: { field: 'cpus', type: 'ordinal', title: 'CPUs', sort: 'ascending' },
          y: { field: 'median', type: 'quantitative', title: `wasted (${cUnit})`, ...(mode === 'stacked' ? { stack: 'zero' } : { stack: null }) },
          color: { field: 'category', type: 'nominal', title: 'category', sort: [...CATEGORIES], scale: { domain: [...CATEGORIES], range: CATEGORY_COLORS } },
          // kread at the bottom of each stack, as the kernel lists the categories.
          order: { field: 'categoryIndex', type: 'quantitative', sort: 'ascending' },
          ...(mode === 'grouped' ? { xOffset: { field: 'category', type: 'nominal', sort: [...CATEGORIES] } } : {}),
        },
      },
    } as unknown as TopLevelSpec;
  }

  // Failed loads: one line per (kernel, kind).
  const failedValues = [
    ...rows(groups, multiMachine, 'failedBecoming', 1, 'failed loads (becoming)', { kind: 'becoming' }),
    ...rows(groups, multiMachine, 'failedLoad', 1, 'failed loads (load)', { kind: 'load' }),
  ];
  const failedLayers = lineLayers(failedValues, multiSeed, 'failed loads', series);
  for (const l of failedLayers.layer) {
    const enc = l.encoding as Record<string, unknown>;
    // Bands (areas) cannot be dashed, nor points: they only need splitting by kind.
    if ((l.mark as { type: string }).type === 'line') enc.strokeDash = { field: 'kind', type: 'nominal', title: 'failed', sort: ['becoming', 'load'], legend: { symbolType: 'stroke', symbolStrokeWidth: 2, symbolOpacity: 1 } };
    enc.detail = { field: 'kind', type: 'nominal' };
  }
  const failed = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: titled('Failed duplicate loads vs CPUs'),
    width,
    height,
    config: CONFIG,
    ...failedLayers,
  } as unknown as TopLevelSpec;

  // Peak module area, with the area's size as a rule.
  const area = opts.moduleAreaBytes;
  const areaMax = Math.max(0, area ?? 0, ...groups.map((g) => summarize(g, 'peakModuleAreaBytes').max));
  const [aUnit, aDiv] = byteUnit(areaMax);
  const areaLayers = lineLayers(rows(groups, multiMachine, 'peakModuleAreaBytes', aDiv, 'peak module area'), multiSeed, `peak module area (${aUnit})`, series);
  if (area !== undefined && area > 0) {
    const y = round6(area / aDiv);
    areaLayers.layer.push({
      data: { values: [{ y, label: `module area size ${y} ${aUnit}` }] },
      mark: { type: 'rule', color: LIMIT_COLOR, strokeDash: [6, 4], strokeWidth: 1.5 },
      encoding: { y: { field: 'y', type: 'quantitative' }, description: { value: `module area size: ${exact('peakModuleAreaBytes', area)}` } },
    });
    areaLayers.layer.push({
      data: { values: [{ y, label: `module area size ${y} ${aUnit}` }] },
      mark: { type: 'text', align: 'left', dx: 4, dy: -7, color: LIMIT_COLOR },
      encoding: { y: { field: 'y', type: 'quantitative' }, x: { value: 0 }, text: { field: 'label' } },
    });
  }
  const moduleArea = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: titled('Peak module area use vs CPUs'),
    width,
    height,
    config: CONFIG,
    ...areaLayers,
  } as unknown as TopLevelSpec;

  return { waste, failed, moduleArea };
}

/**
 * Give every id in an SVG a stable name `<prefix>N` in order of first appearance, and rewrite
 * references to it, so output does not depend on vega's process-wide counters.
 */
export function normalizeSvgIds(svg: string, prefix: string): string {
  const map = new Map<string, string>();
  const name = (old: string) => {
    let n = map.get(old);
    if (n === undefined) {
      n = `${prefix}${map.size + 1}`;
      map.set(old, n);
    }
    return n;
  };
  return svg.replace(/\bid="([^"]+)"|url\(#([^)]+)\)|href="#([^"]+)"/g, (m, id?: string, url?: string, href?: string) => {
    if (id !== undefined) return `id="${name(id)}"`;
    if (url !== undefined) return `url(#${name(url)})`;
    if (href !== undefined) return m.startsWith('xlink:') ? `xlink:href="#${name(href)}"` : `href="#${name(href)}"`;
    return m;
  });
}

/**
 * vega-lite paints the symbols of a strokeDash legend with a transparent stroke when the lines
 * carry points (it takes them for filled marks), which leaves the dash legend blank. Give those
 * symbols a visible stroke, in every legend of the compiled spec (concat charts nest them).
 */
function dashLegendStroke(node: unknown): void {
  if (Array.isArray(node)) {
    for (const n of node) dashLegendStroke(n);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  if (Array.isArray(o.legends)) {
    for (const l of o.legends as Record<string, unknown>[]) {
      if (l.strokeDash === undefined) continue;
      const encode = (l.encode ??= {}) as Record<string, Record<string, Record<string, unknown>>>;
      const symbols = (encode.symbols ??= {});
      const update = (symbols.update ??= {});
      update.stroke = { value: '#444' };
    }
  }
  for (const k of ['marks', 'layer']) if (o[k]) dashLegendStroke(o[k]);
}

/**
 * vega's SVG renderer writes no <title>, so a standalone SVG or one inlined in the HTML page has
 * no tooltips; it does write each mark's `description` as its aria-label. Give every point, bar
 * and limit rule that carries one a <title> child with the same text (already escaped for an
 * attribute, so valid as element text): browsers show it on hover, screen readers read it.
 */
export function pointTitles(svg: string): string {
  return svg.replace(/<(path|line|rect)\b([^>]*?)\/>/g, (m, tag: string, attrs: string) => {
    if (!/\brole="graphics-symbol"/.test(attrs) || !/\baria-roledescription="(point|bar|rule|rule mark)"/.test(attrs)) return m;
    const label = /\baria-label="([^"]*)"/.exec(attrs)?.[1];
    return label === undefined ? m : `<${tag}${attrs}><title>${label}</title></${tag}>`;
  });
}

/** Render one vega-lite spec to SVG text in Node. */
export async function specToSvg(spec: TopLevelSpec, idPrefix = 'km-'): Promise<string> {
  // vega and vega-lite (~0.2 s of CPU to load) only when a picture is asked for
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vl.compile(spec).spec;
  dashLegendStroke(compiled);
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return pointTitles(normalizeSvgIds(svg, idPrefix));
  } finally {
    view.finalize();
  }
}

/** The three charts as separate SVG documents. */
export async function renderSvgCharts(records: readonly StormRunRecord[], params?: StormParams, opts: SvgOptions = {}): Promise<Record<ChartName, string>> {
  const specs = chartSpecs(records, params, opts);
  return {
    waste: await specToSvg(specs.waste, 'km-waste-'),
    failed: await specToSvg(specs.failed, 'km-failed-'),
    moduleArea: await specToSvg(specs.moduleArea, 'km-area-'),
  };
}

/** All three charts stacked in one SVG document (`--svg FILE`). */
export async function renderSvg(records: readonly StormRunRecord[], params?: StormParams, opts: SvgOptions = {}): Promise<string> {
  const specs = chartSpecs(records, params, opts);
  const strip = (s: TopLevelSpec) => {
    const { $schema: _s, config: _c, ...rest } = s as unknown as Record<string, unknown>;
    return rest;
  };
  const combined = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    config: CONFIG,
    spacing: 40,
    resolve: { scale: { color: 'independent', strokeDash: 'independent', y: 'independent', x: 'independent' }, legend: { color: 'independent', strokeDash: 'independent' } },
    vconcat: [strip(specs.waste), strip(specs.failed), strip(specs.moduleArea)],
  } as unknown as TopLevelSpec;
  return specToSvg(combined, 'km-');
}
