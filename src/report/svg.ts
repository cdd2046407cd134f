/**
 * DOC: the storm's charts as SVG — rendered in Node, no browser.
 *
 * Three pictures answer the questions: how much is wasted as CPUs grow (the upstream
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
import { byteUnit } from './units.js';

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
  [k: string]: string | number;
}

function rows(groups: PointGroup[], multiMachine: boolean, m: Measure, div: number, extra: Record<string, string | number> = {}): Row[] {
  return groups.map((g) => {
    const s = summarize(g, m);
    return { series: seriesName(g, multiMachine), cpus: g.cpus, median: round6(s.median / div), min: round6(s.min / div), max: round6(s.max / div), ...extra };
  });
}

const CONFIG = {
  font: 'sans-serif',
  background: 'white',
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14, anchor: 'start' as const },
};

/** Line-per-series layer with a min–max band when there are several seeds per point. */
function lineLayers(values: Row[], multiSeed: boolean, yTitle: string, color: { field: string; title: string; sort: string[] }) {
  const x = { field: 'cpus', type: 'quantitative' as const, title: 'CPUs' };
  const colorEnc = { field: color.field, type: 'nominal' as const, title: color.title, sort: color.sort, legend: { symbolType: 'stroke', symbolStrokeWidth: 2.5, symbolOpacity: 1 } };
  const layers: Record<string, unknown>[] = [];
  if (multiSeed) {
    layers.push({
      mark: { type: 'area', opacity: 0.18 },
      encoding: { x, y: { field: 'min', type: 'quantitative', title: yTitle }, y2: { field: 'max' }, color: colorEnc },
    });
  }
  layers.push({
    mark: { type: 'line', point: true, strokeWidth: 2 },
    encoding: { x, y: { field: 'median', type: 'quantitative', title: yTitle }, color: colorEnc },
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
  const suffix = multiSeed ? ' (median, band: min–max over seeds)' : '';
  const series = { field: 'series', title: 'kernel', sort: order };

  // Waste.
  const wasteMax = Math.max(0, ...groups.map((g) => summarize(g, 'wastedBytes').max));
  const [wUnit, wDiv] = byteUnit(wasteMax);
  let waste: TopLevelSpec;
  const mode = opts.categories ?? 'total';
  if (mode === 'total') {
    waste = {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      title: `Virtual memory wasted by duplicate loads vs CPUs${suffix}`,
      width,
      height,
      config: CONFIG,
      ...lineLayers(rows(groups, multiMachine, 'wastedBytes', wDiv), multiSeed, `wasted (${wUnit})`, series),
    } as unknown as TopLevelSpec;
  } else {
    const values: Row[] = [];
    CATEGORIES.forEach((c, i) => values.push(...rows(groups, multiMachine, c, wDiv, { category: c, categoryIndex: i })));
    const catMax = Math.max(0, ...values.map((v) => v.median));
    const [cUnit, cDiv] = mode === 'grouped' ? byteUnit(catMax * wDiv) : [wUnit, wDiv];
    if (cDiv !== wDiv) for (const v of values) v.median = round6((v.median * wDiv) / cDiv);
    waste = {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      title: `Virtual memory wasted by duplicate loads vs CPUs, by category${multiSeed ? ' (median over seeds)' : ''}`,
      data: { values },
      config: CONFIG,
      facet: { row: { field: 'series', type: 'nominal', title: 'kernel', sort: order } },
      spec: {
        width,
        height: Math.max(120, Math.round(height / 2)),
        mark: 'bar',
        encoding: {
          x: { field: 'cpus', type: 'ordinal', title: 'CPUs', sort: 'ascending' },
          y: { field: 'median', type: 'quantitative', title: `wasted (${cUnit})`, ...(mode === 'stacked' ? { stack: 'zero' } : { stack: null }) },
          color: { field: 'category', type: 'nominal', title: 'category', sort: [...CATEGORIES] },
          // kread at the bottom of each stack, as the kernel lists the categories.
          order: { field: 'categoryIndex', type: 'quantitative', sort: 'ascending' },
          ...(mode === 'grouped' ? { xOffset: { field: 'category', type: 'nominal', sort: [...CATEGORIES] } } : {}),
        },
      },
    } as unknown as TopLevelSpec;
  }

  // Failed loads: one line per (kernel, kind).
  const failedValues = [
    ...rows(groups, multiMachine, 'failedBecoming', 1, { kind: 'becoming' }),
    ...rows(groups, multiMachine, 'failedLoad', 1, { kind: 'load' }),
  ];
  const failedLayers = lineLayers(failedValues, multiSeed, 'failed loads', series);
  for (const l of failedLayers.layer) {
    const enc = l.encoding as Record<string, unknown>;
    // Bands (areas) cannot be dashed: they only need splitting by kind.
    if ((l.mark as { type: string }).type === 'line') enc.strokeDash = { field: 'kind', type: 'nominal', title: 'failed', sort: ['becoming', 'load'], legend: { symbolType: 'stroke', symbolStrokeWidth: 2, symbolOpacity: 1 } };
    enc.detail = { field: 'kind', type: 'nominal' };
  }
  const failed = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `Failed duplicate loads vs CPUs${suffix}`,
    width,
    height,
    config: CONFIG,
    ...failedLayers,
  } as unknown as TopLevelSpec;

  // Peak module area, with the area's size as a rule.
  const area = opts.moduleAreaBytes;
  const areaMax = Math.max(0, area ?? 0, ...groups.map((g) => summarize(g, 'peakModuleAreaBytes').max));
  const [aUnit, aDiv] = byteUnit(areaMax);
  const areaLayers = lineLayers(rows(groups, multiMachine, 'peakModuleAreaBytes', aDiv), multiSeed, `peak module area (${aUnit})`, series);
  if (area !== undefined && area > 0) {
    const y = round6(area / aDiv);
    areaLayers.layer.push({
      data: { values: [{ y, label: `module area size ${y} ${aUnit}` }] },
      mark: { type: 'rule', color: '#c0392b', strokeDash: [6, 4], strokeWidth: 2 },
      encoding: { y: { field: 'y', type: 'quantitative' } },
    });
    areaLayers.layer.push({
      data: { values: [{ y, label: `module area size ${y} ${aUnit}` }] },
      mark: { type: 'text', align: 'left', dx: 4, dy: -7, color: '#c0392b' },
      encoding: { y: { field: 'y', type: 'quantitative' }, x: { value: 0 }, text: { field: 'label' } },
    });
  }
  const moduleArea = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `Peak module area use vs CPUs${suffix}`,
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

/** Render one vega-lite spec to SVG text in Node. */
export async function specToSvg(spec: TopLevelSpec, idPrefix = 'km-'): Promise<string> {
  // vega and vega-lite (~0.2 s of CPU to load) only when a picture is asked for
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vl.compile(spec).spec;
  dashLegendStroke(compiled);
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return normalizeSvgIds(svg, idPrefix);
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
