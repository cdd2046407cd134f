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
import { renderCsv, renderJson, renderJsonl } from './data.js';
import { renderHtml, type HtmlOptions } from './html.js';
import { renderMarkdown } from './markdown.js';
import { renderSvg } from './svg.js';
import { renderTable } from './table.js';

export { renderChart } from './chart.js';
export { renderDumbChart } from './dumb-chart.js';
export { renderCsv, renderJson, renderJsonl, csvColumns } from './data.js';
export { renderHtml } from './html.js';
export { renderMarkdown } from './markdown.js';
export { renderSvg, renderSvgCharts, chartSpecs, type CategoryMode, type SvgOptions } from './svg.js';
export { renderTable } from './table.js';

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
      return renderMarkdown(records, params);
    case 'chart':
      return terminalChart(records, params, opts);
    case 'csv':
      return renderCsv(records, params);
    case 'json':
      return renderJson(records, params);
    case 'jsonl':
      return renderJsonl(records, params);
    case 'svg':
      return renderSvg(records, params, opts);
    case 'html':
      return renderHtml(records, params, opts);
  }
}
