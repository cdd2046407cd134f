/**
 * DOC: `--format md` — the storm table as a Markdown table, to paste into an issue, a merge
 * request or a mail.
 *
 * The same rows and columns as the text table, its cells formatted by the same functions, in one
 * table: Markdown has no spanning header, so a grouped column's title carries its group's word
 * ("failed becoming"), and where seeds differ the min–max row follows its point's row as in the
 * text table. Cells are padded so the raw text lines up too (a mail is read unrendered); `|` and
 * `\` in a name are escaped, so a policy label cannot end a cell.
 */
import type { StormParams, StormRunRecord } from '../results/record.js';
import { groupByPoint } from './records.js';
import { describe, tableColumns, tableRows, type TableOptions } from './table.js';

/** A cell's text with Markdown table syntax escaped. */
export function escapeMarkdownCell(text: string): string {
  return text.replace(/[\\|]/g, (c) => `\\${c}`);
}

/** The Markdown report: the header lines as paragraphs, then the table (ends with a newline). */
export function renderMarkdown(records: readonly StormRunRecord[], params?: StormParams, opts: TableOptions = {}): string {
  if (records.length === 0) return 'no runs\n';
  const groups = groupByPoint(records, params);
  const multiSeed = groups.some((g) => g.runs.length > 1);
  const cols = tableColumns(groups, opts);
  const head = cols.map((c) => escapeMarkdownCell(c.fullTitle));
  const rows = tableRows(groups, cols).map((r) => r.cells.map(escapeMarkdownCell));
  // the delimiter row needs three dashes and the colon
  const widths = cols.map((_, i) => Math.max(4, head[i]!.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const pad = (cells: string[]) => cells.map((x, i) => (cols[i]!.align === 'left' ? x.padEnd(widths[i]!) : x.padStart(widths[i]!)));
  const delimiter = cols.map((c, i) => (c.align === 'left' ? `:${'-'.repeat(widths[i]! - 1)}` : `${'-'.repeat(widths[i]! - 1)}:`));
  const out = describe(records, params, groups, multiSeed).flatMap((l) => [escapeMarkdownCell(l), '']);
  out.push(line(pad(head)), line(delimiter), ...rows.map((r) => line(pad(r))));
  return out.join('\n') + '\n';
}
