/**
 * DOC: the storm's machine-readable outputs — `--format csv|json|jsonl`.
 *
 * One record per run, for spreadsheets, pandas, jq and a baseline kept in git (kdevops style: a
 * regression is one line in a diff). JSON and JSONL carry the record exactly as record.ts names
 * it, keys in that order. CSV is flat: the waste categories become columns named after their JSON
 * path (`wastedBytesByCategory.kread` …) and the nested per-module data becomes compact strings,
 * so one run is one row.
 */
import { canonicalRecord, recordsJson, recordsJsonl } from '../results/json.js';
import { sortRecords } from '../results/order.js';
import { CATEGORIES, RECORD_FIELDS, type StormParams, type StormRunRecord } from '../results/record.js';

/** RFC 4180 quoting: only when needed, so plain numbers stay plain. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) || /^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** `mod=3;other=1`, keys sorted. */
function compactCounts(m: Record<string, number>): string {
  return Object.keys(m)
    .sort()
    .map((k) => `${k}=${m[k]}`)
    .join(';');
}

/** `mod:EBUSY=2/EEXIST=3;other:EEXIST=1`, keys sorted. */
function compactFailures(m: Record<string, Record<string, number>>): string {
  return Object.keys(m)
    .sort()
    .map((k) => {
      const e = m[k]!;
      return `${k}:${Object.keys(e)
        .sort()
        .map((x) => `${x}=${e[x]}`)
        .join('/')}`;
    })
    .join(';');
}

/** `module:count:reason;…` in the stats table's order. */
export function compactDuplicates(d: StormRunRecord['duplicates']): string {
  return d.map((x) => `${x.module}:${x.count}:${x.reason}`).join(';');
}

/** CSV column names, in order: record.ts order with the categories flattened in place. */
export function csvColumns(records: readonly StormRunRecord[] = []): string[] {
  const cols: string[] = [];
  for (const f of RECORD_FIELDS) {
    if (f === 'wastedBytesByCategory') for (const c of CATEGORIES) cols.push(`wastedBytesByCategory.${c}`);
    else cols.push(f);
  }
  // Fields added to record.ts after this file was written still get a column (sorted, at the end).
  const known = new Set<string>(RECORD_FIELDS);
  const extra = new Set<string>();
  for (const r of records) for (const k of Object.keys(r)) if (!known.has(k)) extra.add(k);
  return [...cols, ...[...extra].sort()];
}

function csvValue(r: StormRunRecord, col: string): string {
  if (col.startsWith('wastedBytesByCategory.')) {
    return String((r.wastedBytesByCategory as unknown as Record<string, unknown>)[col.slice('wastedBytesByCategory.'.length)] ?? '');
  }
  switch (col) {
    case 'loadAttemptsByModule':
      return compactCounts(r.loadAttemptsByModule ?? {});
    case 'failuresByModule':
      return compactFailures(r.failuresByModule ?? {});
    case 'modulesFailedByAllocation':
      return (r.modulesFailedByAllocation ?? []).join(';');
    case 'duplicates':
      return compactDuplicates(r.duplicates ?? []);
  }
  const v = (canonicalRecord(r) as Record<string, unknown>)[col];
  if (v === undefined || v === null) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** CSV with a header row, one row per run, rows in report order, `\n` line ends. */
export function renderCsv(records: readonly StormRunRecord[], params?: StormParams): string {
  const cols = csvColumns(records);
  const lines = [cols.map(csvField).join(',')];
  for (const r of sortRecords(records, params)) lines.push(cols.map((c) => csvField(csvValue(r, c))).join(','));
  return lines.join('\n') + '\n';
}

/** A JSON array of the records, two-space indented, in report order. */
export function renderJson(records: readonly StormRunRecord[], params?: StormParams): string {
  return recordsJson(records, params);
}

/** One compact JSON record per line, in report order. */
export function renderJsonl(records: readonly StormRunRecord[], params?: StormParams): string {
  return recordsJsonl(records, params);
}
