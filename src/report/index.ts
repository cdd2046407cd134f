/**
 * DOC: the storm's reports behind one entry point.
 *
 * The CLI maps `--format` (and `--svg`, `--html`) to a renderer here, so adding a format is one
 * line in one place. Every renderer is a pure function of (records, params, options) → text.
 */
import type { StormParams, StormRunRecord } from '../results/record.js';
import { InputError } from '../errors.js';
import { renderChart, type ChartOptions } from './chart.js';
import { renderDumbChart } from './dumb-chart.js';
import type { HtmlOptions } from './html.js';
import { renderTable } from './table.js';

// The text format (the table and the terminal chart) is loaded with this module: it is the
// storm's default. The other renderers are imported when a format asks for them, so a storm's
// start-up does not load and compile the SVG, HTML, Markdown and CSV/JSON code (vega and
// vega-lite were already imported only when rendering).
export { renderChart } from './chart.js';
export { renderDumbChart } from './dumb-chart.js';
export { renderTable } from './table.js';
export type { CategoryMode, SvgOptions } from './svg.js';

/** the HTML report (imported when asked for) */
export async function renderHtml(records: readonly StormRunRecord[], params?: StormParams, opts: HtmlOptions = {}): Promise<string> {
  return (await import('./html.js')).renderHtml(records, params, opts);
}

/** the SVG charts (imported when asked for) */
export async function renderSvg(records: readonly StormRunRecord[], params?: StormParams, opts: HtmlOptions = {}): Promise<string> {
  return (await import('./svg.js')).renderSvg(records, params, opts);
}

export const FORMATS = ['text', 'table', 'md', 'chart', 'csv', 'json', 'jsonl', 'svg', 'html'] as const;
export type ReportFormat = (typeof FORMATS)[number];

/** `--chart`: the terminal chart's style in the text and chart formats */
export const CHART_STYLES = ['lines', 'dumb'] as const;
export type ChartStyle = (typeof CHART_STYLES)[number];

export type ReportOptions = HtmlOptions & ChartOptions & { chart?: ChartStyle };

export function parseChartStyle(text: string, option = '--chart'): ChartStyle {
  if ((CHART_STYLES as readonly string[]).includes(text)) return text as ChartStyle;
  throw new InputError(`${option}: unknown chart style "${text}" (one of: ${CHART_STYLES.join(', ')})`);
}

/** the terminal chart in the style asked for (default: the box-drawing lines) */
function terminalChart(records: readonly StormRunRecord[], params: StormParams | undefined, opts: ReportOptions): string {
  if (opts.chart === 'dumb') return renderDumbChart(records, params, opts.measure !== undefined ? { measure: opts.measure } : {});
  return renderChart(records, params, opts);
}

export function parseFormat(text: string, option = '--format'): ReportFormat {
  if ((FORMATS as readonly string[]).includes(text)) return text as ReportFormat;
  throw new InputError(`${option}: unknown format "${text}" (one of: ${FORMATS.join(', ')})`);
}

export function parseCategoryMode(text: string, option = '--categories'): 'total' | 'stacked' | 'grouped' {
  if (text === 'total' || text === 'stacked' || text === 'grouped') return text;
  throw new InputError(`${option}: unknown mode "${text}" (one of: total, stacked, grouped)`);
}

/** Render records in a format. `text` is the table followed by the terminal chart. */
export async function renderReport(format: ReportFormat, records: readonly StormRunRecord[], params?: StormParams, opts: ReportOptions = {}): Promise<string> {
  switch (format) {
    case 'text':
      return `${renderTable(records, params)}\n${terminalChart(records, params, opts)}`;
    case 'table':
      return renderTable(records, params);
    case 'md':
      return (await import('./markdown.js')).renderMarkdown(records, params);
    case 'chart':
      return terminalChart(records, params, opts);
    case 'csv':
      return (await import('./data.js')).renderCsv(records, params);
    case 'json':
      return (await import('./data.js')).renderJson(records, params);
    case 'jsonl':
      return (await import('./data.js')).renderJsonl(records, params);
    case 'svg':
      return renderSvg(records, params, opts);
    case 'html':
      return renderHtml(records, params, opts);
  }
}
