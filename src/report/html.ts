/**
 * DOC: the storm's HTML report — one self-contained page.
 *
 * A sweep's result is passed around (mailing lists, bug trackers, CI artefacts) and read on
 * machines with no network, so the page holds everything inline: the charts as SVG, the CSS, the
 * main table, each run's "Duplicate failed modules" table and the parameters. It loads nothing:
 * no scripts at all, no external URLs, and a Content-Security-Policy that forbids fetching
 * anything, so it renders the same offline, from a file:// URL, or inside a sandboxed viewer.
 * Like every report it is a pure function of the records: no dates, no host names.
 */
import { paramsFromRecords, sortRecords } from '../results/order.js';
import type { StormParams, StormRunRecord } from '../results/record.js';
import { runKey } from '../results/store.js';
import { groupByPoint } from './records.js';
import { renderSvgCharts, type SvgOptions } from './svg.js';
import { tableColumns } from './table.js';
import { formatBytes, formatNs } from './units.js';

export interface HtmlOptions extends SvgOptions {
  /** page title (default: "kmodlab storm — MACHINE") */
  title?: string;
  /** the kmodlab version that made the page (the CLI gives package.json's) */
  kmodlabVersion?: string;
}

/** the module sets the records name, in first-seen report order; records made before the field say nothing */
export function moduleSets(records: readonly StormRunRecord[], params?: StormParams): string[] {
  const out: string[] = [];
  for (const r of sortRecords(records, params)) {
    const m = r.moduleSet ?? 'not recorded (records from an older kmodlab)';
    if (!out.includes(m)) out.push(m);
  }
  return out;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const CSS = `
:root { color-scheme: light; --fg: #1d2330; --muted: #5b6475; --line: #d9dde5; --head: #f3f5f8; --accent: #2c5aa0; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: #fff; }
header, main, footer { max-width: 1400px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 20px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.lead { color: var(--muted); margin: 0 0 8px; }
nav a { margin-right: 14px; color: var(--accent); text-decoration: none; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
figure.chart { margin: 0; padding: 8px; border: 1px solid var(--line); border-radius: 6px; overflow-x: auto; max-width: 100%; }
figure.chart svg { display: block; height: auto; max-width: 100%; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 9px; border-bottom: 1px solid var(--line); white-space: nowrap; }
thead th { background: var(--head); position: sticky; top: 0; }
th.group { text-align: center; font-weight: 600; color: var(--muted); border-bottom: 2px solid var(--line); }
td.num, th.num { text-align: right; }
td.text, th.text { text-align: left; }
td small { display: block; color: var(--muted); font-size: 11px; }
tbody tr:nth-child(even) { background: #fafbfc; }
details { margin: 4px 0; border: 1px solid var(--line); border-radius: 4px; padding: 4px 10px; }
details summary { cursor: pointer; }
details table { margin: 6px 0 8px; }
.none { color: var(--muted); }
.warn { color: #b03a2e; font-weight: 600; }
dl.params { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; }
dl.params dt { font-weight: 600; }
dl.params dd { margin: 0; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; overflow-wrap: anywhere; }
footer { color: var(--muted); padding-top: 20px; padding-bottom: 30px; }
dl.provenance { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 6px 0 10px; font-size: 13px; }
dl.provenance dt { color: var(--muted); }
dl.provenance dd { margin: 0; overflow-wrap: anywhere; }
dl.provenance code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; background: var(--head); padding: 1px 4px; border-radius: 3px; }
`;

function mainTable(records: readonly StormRunRecord[], params?: StormParams): string {
  const groups = groupByPoint(records, params);
  const cols = tableColumns(groups);
  const multiSeed = groups.some((g) => g.runs.length > 1);
  const out: string[] = ['<div class="scroll"><table class="results">', '<thead>'];
  // Group header row.
  let row = '<tr>';
  for (let i = 0; i < cols.length; ) {
    const g = cols[i]!.group;
    let j = i + 1;
    while (g !== undefined && j < cols.length && cols[j]!.group === g) j++;
    row += g === undefined ? '<th></th>' : `<th class="group" colspan="${j - i}">${escapeHtml(g)}</th>`;
    i = g === undefined ? i + 1 : j;
  }
  out.push(row + '</tr>');
  out.push('<tr>' + cols.map((c) => `<th class="${c.align === 'left' ? 'text' : 'num'}" scope="col">${escapeHtml(c.title)}</th>`).join('') + '</tr>');
  out.push('</thead>', '<tbody>');
  for (const g of groups) {
    const cells = cols.map((c) => {
      const range = multiSeed && g.runs.length > 1 && c.range ? `<small>${escapeHtml(c.range(g))}</small>` : '';
      return `<td class="${c.align === 'left' ? 'text' : 'num'}">${escapeHtml(c.cell(g))}${range}</td>`;
    });
    out.push(`<tr>${cells.join('')}</tr>`);
  }
  out.push('</tbody>', '</table></div>');
  if (multiSeed) out.push('<p class="lead">Each cell: the median over seeds; below it, the min–max spread.</p>');
  return out.join('\n');
}

function runTitle(r: StormRunRecord, multiMachine: boolean): string {
  return `${multiMachine ? `${r.machine} · ` : ''}${r.cpus} CPUs · ${r.kernel} · seed ${r.seed}`;
}

function duplicateSection(records: readonly StormRunRecord[], params?: StormParams): string {
  const multiMachine = new Set(records.map((r) => r.machine)).size > 1;
  const out: string[] = [];
  for (const r of sortRecords(records, params)) {
    const total = r.duplicates.reduce((a, d) => a + d.count, 0);
    const id = runKey(r);
    const what =
      r.duplicates.length === 0
        ? '<span class="none">no duplicate failed modules</span>'
        : `${r.duplicates.length} modules, ${total} duplicate failures, ${escapeHtml(formatBytes(r.wastedBytes))} wasted`;
    const alloc =
      r.modulesFailedByAllocation.length > 0
        ? ` · <span class="warn">${r.modulesFailedByAllocation.length} legitimate loads failed by allocation</span>`
        : '';
    out.push(`<details id="${escapeHtml(id)}"><summary>${escapeHtml(runTitle(r, multiMachine))} — ${what}${alloc}</summary>`);
    if (r.duplicates.length > 0) {
      out.push('<table class="dups"><thead><tr><th class="text">module</th><th class="num">count</th><th class="text">reason</th></tr></thead><tbody>');
      for (const d of r.duplicates) {
        out.push(`<tr><td class="text">${escapeHtml(d.module)}</td><td class="num">${d.count}</td><td class="text">${escapeHtml(d.reason)}</td></tr>`);
      }
      out.push('</tbody></table>');
    }
    if (r.modulesFailedByAllocation.length > 0) {
      out.push(`<p class="warn">Failed by allocation: ${escapeHtml(r.modulesFailedByAllocation.join(', '))}</p>`);
    }
    out.push(
      `<p class="lead">${r.uevents} uevents, ${r.modulesLoaded} modules loaded, ${r.loadAttempts} load attempts, settled after ${escapeHtml(formatNs(r.settleNs))}, workers blocked ${escapeHtml(formatNs(r.workerBlockedNs))} in total.</p>`,
    );
    out.push('</details>');
  }
  return out.join('\n');
}

function paramsSection(records: readonly StormRunRecord[], params: StormParams, opts: HtmlOptions): string {
  const items: [string, string][] = [
    ['machine', params.machine],
    ['CPU counts', params.cpus.join(', ')],
    ['kernel presets', params.kernels.join(', ')],
    ['seeds', params.seeds.join(', ')],
    ['runs', String(records.length)],
    [moduleSets(records, params).length > 1 ? 'module sets' : 'module set', moduleSets(records, params).join('; ')],
  ];
  if (opts.moduleAreaBytes !== undefined) items.push(['module area size', formatBytes(opts.moduleAreaBytes)]);
  if (opts.categories !== undefined) items.push(['waste chart', opts.categories]);
  if (params.command) items.push(['command', params.command]);
  if (opts.kmodlabVersion !== undefined) items.push(['kmodlab', opts.kmodlabVersion]);
  return '<dl class="params">\n' + items.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('\n') + '\n</dl>';
}

/** What made the page, at its top: the module set(s), kmodlab's version, the exact command. */
function provenance(records: readonly StormRunRecord[], p: StormParams, opts: HtmlOptions): string {
  const sets = moduleSets(records, p);
  const items: [string, string][] = [[sets.length > 1 ? 'module sets' : 'module set', sets.join('; ')]];
  if (opts.kmodlabVersion !== undefined) items.push(['kmodlab', opts.kmodlabVersion]);
  if (p.command) items.push(['command', p.command]);
  return '<dl class="provenance">\n' + items.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${k === 'command' ? `<code>${escapeHtml(v)}</code>` : escapeHtml(v)}</dd>`).join('\n') + '\n</dl>';
}

/** The self-contained HTML page. */
export async function renderHtml(records: readonly StormRunRecord[], params?: StormParams, opts: HtmlOptions = {}): Promise<string> {
  const p = params ?? paramsFromRecords(records);
  const charts = await renderSvgCharts(records, p, opts);
  const title = opts.title ?? `kmodlab storm — ${p.machine}`;
  const kernels = new Set(records.map((r) => r.kernel)).size;
  const cpus = new Set(records.map((r) => r.cpus)).size;
  const lead = `${records.length} runs: ${kernels} kernel presets × ${cpus} CPU counts × ${p.seeds.length} seeds on machine profile ${p.machine}.`;
  const figure = (svg: string, caption: string) =>
    `<figure class="chart" aria-label="${escapeHtml(caption)}">\n${svg}\n</figure>`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    `<title>${escapeHtml(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    '<header>',
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="lead">${escapeHtml(lead)}</p>`,
    provenance(records, p, opts),
    '<nav><a href="#charts">charts</a><a href="#results">table</a><a href="#duplicates">duplicates per run</a><a href="#parameters">parameters</a></nav>',
    '</header>',
    '<main>',
    '<section id="charts"><h2>Charts</h2><div class="charts">',
    figure(charts.waste, 'wasted bytes vs CPUs'),
    figure(charts.failed, 'failed loads vs CPUs'),
    figure(charts.moduleArea, 'peak module area vs CPUs'),
    '</div></section>',
    '<section id="results"><h2>Results</h2>',
    mainTable(records, p),
    '</section>',
    '<section id="duplicates"><h2>Duplicate failed modules, per run</h2>',
    duplicateSection(records, p),
    '</section>',
    '<section id="parameters"><h2>Parameters</h2>',
    paramsSection(records, p, opts),
    '</section>',
    '</main>',
    `<footer>Generated by kmodlab${opts.kmodlabVersion !== undefined ? ` ${escapeHtml(opts.kmodlabVersion)}` : ''}. Every run is replayable with its seed.</footer>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
