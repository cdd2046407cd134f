/**
 * DOC: two outcome tables side by side, every difference marked (`--compare`).
 *
 * The same plan run on a real kernel and on the simulator gives two tables with the same row
 * keys (a selftest ID; a module, load path and N). compareTables() puts them next to each other
 * and marks each row whose compared cells differ. A difference is a finding unless the caller's
 * `explain` recognises it as a known, explained property (timing-dependent counts, a measurement
 * the model does not make): those are marked `~` with a numbered note, the rest `≠`, so an
 * unexplained disagreement can never hide among explained ones. Informational columns (times,
 * VmallocUsed) are shown for both sides but never compared: their units and scales differ by
 * design (host wall time vs virtual time, KiB sampled vs bytes accounted).
 *
 * Pure: no I/O, deterministic text.
 */

export interface OutcomeTable {
  /** headers of the row key, e.g. ['test'] or ['module', 'path', 'N'] */
  keyColumns: string[];
  /** headers of the compared cells, e.g. ['status', 'result'] */
  valueColumns: string[];
  /** headers of cells shown per side but not compared (may be empty) */
  infoColumns?: string[];
  rows: OutcomeRow[];
}

export interface OutcomeRow {
  key: string[];
  values: string[];
  info?: string[];
}

export interface Side {
  /** e.g. "real qemu:debian-6.1" or "sim v6.1-stable" */
  label: string;
  table: OutcomeTable;
}

export interface Difference {
  key: string[];
  column: string;
  left: string;
  right: string;
  /** why this difference is expected, or null: a finding */
  explanation: string | null;
}

/** Recognise a known difference: its explanation, or null when it is a finding. */
export type Explain = (key: readonly string[], column: string, left: string, right: string) => string | null;

export interface Comparison {
  text: string;
  differences: Difference[];
  /** differences without an explanation (findings) */
  unexplained: number;
}

const MISSING = '—';

function sameShape(a: OutcomeTable, b: OutcomeTable): void {
  const eq = (x: readonly string[], y: readonly string[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  if (!eq(a.keyColumns, b.keyColumns) || !eq(a.valueColumns, b.valueColumns) || !eq(a.infoColumns ?? [], b.infoColumns ?? []))
    throw new Error('compareTables: the two tables have different columns');
}

/** Rows of both tables in the left table's order, then rows only the right one has. */
function joinRows(a: OutcomeTable, b: OutcomeTable): { key: string[]; l: OutcomeRow | null; r: OutcomeRow | null }[] {
  const id = (k: readonly string[]) => k.join('\u0000');
  const right = new Map(b.rows.map((r) => [id(r.key), r]));
  const out: { key: string[]; l: OutcomeRow | null; r: OutcomeRow | null }[] = [];
  const seen = new Set<string>();
  for (const l of a.rows) {
    seen.add(id(l.key));
    out.push({ key: l.key, l, r: right.get(id(l.key)) ?? null });
  }
  for (const r of b.rows) if (!seen.has(id(r.key))) out.push({ key: r.key, l: null, r });
  return out;
}

export function compareTables(left: Side, right: Side, explain: Explain = () => null): Comparison {
  sameShape(left.table, right.table);
  const t = left.table;
  const info = t.infoColumns ?? [];
  const differences: Difference[] = [];
  const notes: string[] = [];
  const noteNo = (text: string): number => {
    const i = notes.indexOf(text);
    if (i >= 0) return i + 1;
    notes.push(text);
    return notes.length;
  };
  const header = [
    ...t.keyColumns,
    ...t.valueColumns.flatMap((c) => [`${c} (${left.label})`, `${c} (${right.label})`]),
    ...info.flatMap((c) => [`${c} (${left.label})`, `${c} (${right.label})`]),
    'diff',
  ];
  const body: string[][] = [];
  for (const { key, l, r } of joinRows(t, right.table)) {
    const marks: string[] = [];
    t.valueColumns.forEach((col, i) => {
      const lv = l?.values[i] ?? MISSING;
      const rv = r?.values[i] ?? MISSING;
      if (lv === rv) return;
      const why = l && r ? explain(key, col, lv, rv) : null;
      differences.push({ key, column: col, left: lv, right: rv, explanation: why });
      marks.push(why === null ? `≠ ${col}` : `~ ${col} [${noteNo(why)}]`);
    });
    if (!l || !r) marks.unshift(`≠ only in ${l ? left.label : right.label}`);
    body.push([
      ...key,
      ...t.valueColumns.flatMap((_, i) => [l?.values[i] ?? MISSING, r?.values[i] ?? MISSING]),
      ...info.flatMap((_, i) => [l?.info?.[i] ?? MISSING, r?.info?.[i] ?? MISSING]),
      marks.join('; '),
    ]);
  }
  const unexplained = differences.filter((d) => d.explanation === null).length;
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const lines = [fmt(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(fmt)];
  lines.push('');
  const explained = differences.length - unexplained;
  lines.push(
    differences.length === 0
      ? `no differences: ${body.length} rows agree`
      : `${differences.length} difference${differences.length === 1 ? '' : 's'} in ${body.length} rows: ${unexplained} unexplained (≠, findings), ${explained} explained (~)`,
  );
  notes.forEach((n, i) => lines.push(`[${i + 1}] ${n}`));
  return { text: lines.join('\n') + '\n', differences, unexplained };
}
