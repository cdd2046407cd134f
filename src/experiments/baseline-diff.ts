/**
 * DOC: `kmodlab baseline diff OLD NEW` — two sets of `--results` runs (src/results/results-dir.ts)
 * read as one line per change, so a regression is one line of review.
 *
 * Runs are matched by release and kind (selftest, storm, dupstorm); when each side holds a single
 * release, by kind alone (two releases side by side). Within a match, rows are matched by key, and
 * of several runs giving the same row the newest (last by run id) counts:
 *
 *   selftest   the test ID: its KTAP result (ktap.txt's `ok N kmod_test_ID` / `not ok` / `# SKIP`,
 *              record.json when there is no KTAP) and, per step, its return values (the test_result
 *              values kmod.sh prints as "Return value", record.json's `results`)
 *   storm      machine, CPU count and seed of a coldplug record: loadAttempts, modulesLoaded,
 *              failedBecoming, failedLoad, failures by errno (over all modules), wastedBytes, allocFailures
 *   dupstorm   module, load path and N of a duplicate-load row: the outcome counts
 *
 * Rows on one side only are not reported (a shorter run is not a change). Each line starts with
 * its verdict: REGRESSED (ok → not ok; a failure count, load attempts, waste or allocation failures
 * that rose; fewer modules loaded), IMPROVED (the reverse), CHANGED (anything else: a return value,
 * ok ↔ skip). A line ending `(timing)` is a row whose outcome depends on timing: a duplicate-load
 * row with N > 1 or a coldplug record measured on a real kernel (which caller wins a race, and
 * whether the others see EEXIST or EBUSY, depends on when each arrives). Those print but do not
 * make the exit code 1; the simulator's rows are never timing-dependent (virtual time).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';
import type { DupStormRow } from '../results/dupstorm.js';
import type { StormRunRecord } from '../results/record.js';
import { readResults, type RunKind, type StoredRun } from '../results/results-dir.js';

export type Verdict = 'REGRESSED' | 'IMPROVED' | 'CHANGED';

export interface DiffLine {
  verdict: Verdict;
  release: string;
  kind: RunKind;
  key: string;
  /** "ok -> not ok", "loadAttempts 120 -> 130, …" */
  change: string;
  timing: boolean;
}

export function formatLine(l: DiffLine): string {
  return `${l.verdict} ${l.release} ${l.kind} ${l.key}: ${l.change}${l.timing ? ' (timing)' : ''}`;
}

/** one comparable row of a run */
interface Row {
  key: string;
  /** named values compared one by one */
  values: Record<string, string | number>;
  timing: boolean;
}

// ---- rows of each kind ------------------------------------------------------------------------

interface SelftestRecordLike {
  tests?: { id: string; status: string; results?: string[] }[];
}

/** top-level KTAP results: test ID → ok | not ok | skip */
function ktapResults(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const r = /^(not ok|ok) \d+ kmod_test_(\d{4})(.*)$/.exec(line);
    if (r) m.set(r[2]!, r[1] === 'ok' && /#\s*SKIP/i.test(r[3]!) ? 'skip' : r[1]!);
  }
  return m;
}

const STATUS_AS_KTAP: Record<string, string> = { pass: 'ok', fail: 'not ok', 'not-run': 'skip' };

function selftestRows(run: StoredRun): Row[] {
  const rec = run.record as SelftestRecordLike;
  if (!Array.isArray(rec?.tests)) throw new InputError(`${path.join(run.dir, 'record.json')}: not a selftest record (no tests)`);
  const ktapFile = path.join(run.dir, 'ktap.txt');
  const ktap = existsSync(ktapFile) ? ktapResults(readFileSync(ktapFile, 'utf8')) : null;
  const rows: Row[] = [];
  for (const t of rec.tests) {
    const values: Record<string, string> = { result: ktap?.get(t.id) ?? STATUS_AS_KTAP[t.status] ?? t.status };
    const byStep = new Map<string, string[]>();
    for (const r of t.results ?? []) {
      const i = r.indexOf('=');
      const step = r.slice(0, i);
      byStep.set(step, [...(byStep.get(step) ?? []), r.slice(i + 1)]);
    }
    for (const [step, v] of byStep) values[`${step} return value`] = v.join('|');
    rows.push({ key: t.id, values, timing: false });
  }
  return rows;
}

function errnoTotals(r: StormRunRecord): string {
  const by = new Map<string, number>();
  for (const m of Object.values(r.failuresByModule ?? {})) for (const [e, n] of Object.entries(m)) by.set(e, (by.get(e) ?? 0) + n);
  return [...by].sort(([a], [b]) => (a < b ? -1 : 1)).map(([e, n]) => `${e}:${n}`).join(' ') || 'none';
}

function stormRows(run: StoredRun): Row[] {
  if (!Array.isArray(run.record)) throw new InputError(`${path.join(run.dir, 'record.json')}: not a storm record list`);
  return (run.record as StormRunRecord[]).map((r) => ({
    key: `${r.machine} c${r.cpus} s${r.seed}`,
    values: {
      loadAttempts: r.loadAttempts,
      modulesLoaded: r.modulesLoaded,
      failedBecoming: r.failedBecoming,
      failedLoad: r.failedLoad,
      failures: errnoTotals(r),
      wastedBytes: r.wastedBytes,
      allocFailures: r.allocFailures,
    },
    timing: r.source === 'measured',
  }));
}

const SUCCESS = new Set(['0', 'exit 0']);

function countsText(c: Record<string, number>): string {
  return Object.entries(c)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([o, n]) => `${o}:${n}`)
    .join(' ');
}

function dupstormRows(run: StoredRun): Row[] {
  const rows = (run.record as { rows?: DupStormRow[] })?.rows;
  if (!Array.isArray(rows)) throw new InputError(`${path.join(run.dir, 'record.json')}: not a duplicate-load storm record (no rows)`);
  const real = run.command.target !== 'sim';
  return rows.map((r) => ({ key: `${r.module} ${r.mode} n=${r.n}`, values: { counts: countsText(r.counts) }, timing: real && r.n > 1 }));
}

function rowsOf(run: StoredRun): Row[] {
  if (run.command.kind === 'selftest') return selftestRows(run);
  if (run.command.kind === 'storm') return stormRows(run);
  return dupstormRows(run);
}

// ---- verdicts ---------------------------------------------------------------------------------

/** failure outcomes and their counts of a dupstorm counts text ("0:1 EEXIST:7") */
function failureCounts(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const part of text.split(' ').filter(Boolean)) {
    const i = part.lastIndexOf(':');
    const o = part.slice(0, i);
    if (!SUCCESS.has(o) && o !== 'none') m.set(o, Number(part.slice(i + 1)));
  }
  return m;
}

/** +1 worse, -1 better, 0 neither, for one changed value */
function direction(kind: RunKind, field: string, a: string | number, b: string | number): number {
  if (kind === 'selftest') {
    if (field !== 'result') return 0;
    if (b === 'not ok') return 1;
    if (a === 'not ok') return -1;
    return 0;
  }
  if (field === 'counts' || field === 'failures') {
    const fa = failureCounts(String(a));
    const fb = failureCounts(String(b));
    let worse = false;
    let better = false;
    for (const o of new Set([...fa.keys(), ...fb.keys()])) {
      const d = (fb.get(o) ?? 0) - (fa.get(o) ?? 0);
      if (d > 0) worse = true;
      if (d < 0) better = true;
    }
    return worse ? 1 : better ? -1 : 0;
  }
  const d = Number(b) - Number(a);
  if (field === 'modulesLoaded') return d < 0 ? 1 : d > 0 ? -1 : 0;
  return d > 0 ? 1 : d < 0 ? -1 : 0;
}

function diffRow(kind: RunKind, release: string, a: Row, b: Row): DiffLine[] {
  const changed = Object.keys(b.values).filter((f) => f in a.values && String(a.values[f]) !== String(b.values[f]));
  if (changed.length === 0) return [];
  const timing = a.timing || b.timing;
  if (kind === 'selftest') {
    // one line per changed value: the KTAP result, and each step's return values
    return changed.map((f) => {
      const d = direction(kind, f, a.values[f]!, b.values[f]!);
      return {
        verdict: d > 0 ? 'REGRESSED' : d < 0 ? 'IMPROVED' : 'CHANGED',
        release,
        kind,
        key: f === 'result' ? b.key : `${b.key} ${f.replace(/ return value$/, '')}`,
        change: f === 'result' ? `${a.values[f]} -> ${b.values[f]}` : `return value ${a.values[f]} -> ${b.values[f]}`,
        timing,
      };
    });
  }
  // storm rows: one line per row, every changed value on it
  const dirs = changed.map((f) => direction(kind, f, a.values[f]!, b.values[f]!));
  const verdict: Verdict = dirs.some((d) => d > 0) ? 'REGRESSED' : dirs.some((d) => d < 0) ? 'IMPROVED' : 'CHANGED';
  const change = changed.map((f) => (kind === 'dupstorm' ? `${a.values[f]} -> ${b.values[f]}` : `${f} ${a.values[f]} -> ${b.values[f]}`)).join(', ');
  return [{ verdict, release, kind, key: b.key, change, timing }];
}

/** rows of a side, per (release, kind), the newest run's row winning */
function collect(runs: readonly StoredRun[], ignoreRelease: boolean): Map<string, { release: string; kind: RunKind; rows: Map<string, Row> }> {
  const out = new Map<string, { release: string; kind: RunKind; rows: Map<string, Row> }>();
  for (const run of runs) {
    const group = ignoreRelease ? run.command.kind : `${run.release}\0${run.command.kind}`;
    let g = out.get(group);
    if (!g) out.set(group, (g = { release: run.release, kind: run.command.kind, rows: new Map() }));
    for (const r of rowsOf(run)) g.rows.set(r.key, r);
  }
  return out;
}

export interface BaselineDiff {
  lines: DiffLine[];
  /** 1 when a line (not timing-dependent) is REGRESSED, else 0 */
  exitCode: number;
}

/** Diff the runs under OLD and NEW (run, release or results directories). */
export function baselineDiff(oldPath: string, newPath: string): BaselineDiff {
  const a = readResults(oldPath);
  const b = readResults(newPath);
  const releases = (rs: readonly StoredRun[]) => new Set(rs.map((r) => r.release));
  const ra = releases(a);
  const rb = releases(b);
  const ignoreRelease = ra.size === 1 && rb.size === 1;
  const ga = collect(a, ignoreRelease);
  const gb = collect(b, ignoreRelease);
  const lines: DiffLine[] = [];
  let common = 0;
  for (const [group, nb] of gb) {
    const na = ga.get(group);
    if (!na) continue;
    common++;
    const release = na.release === nb.release ? nb.release : `${na.release}->${nb.release}`;
    for (const [key, row] of nb.rows) {
      const old = na.rows.get(key);
      if (old) lines.push(...diffRow(nb.kind, release, old, row));
    }
  }
  if (common === 0)
    throw new InputError(`baseline diff: ${oldPath} and ${newPath} have no run of the same release and kind (${[...ra].join(', ')} vs ${[...rb].join(', ')})`);
  return { lines, exitCode: lines.some((l) => l.verdict === 'REGRESSED' && !l.timing) ? 1 : 0 };
}
