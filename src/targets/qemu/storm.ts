/**
 * DOC: real duplicate-load storms in the guest (runGuestStorm).
 *
 * For each module, load path and N: make sure the module is not loaded, release N loads of it at
 * the same moment (scripts/kernel/kml-storm.c), count what each call returned and read the peak
 * VmallocUsed sampled during the storm, then unload it again. Load paths:
 *   finit             finit_module(fd, params, 0) on an uncompressed copy (one inode for all N)
 *   finit-compressed  finit_module(fd, params, MODULE_INIT_COMPRESSED_FILE) on an xz copy
 *   init              init_module(image) — what kmod < 31 does with a compressed module
 *   modprobe          N `modprobe NAME PARAMS` processes of the guest's kmod, on the module as
 *                     installed in /lib/modules (xz-compressed on debian-6.12); the count is of
 *                     exit codes, with the errno recovered from modprobe's error message.
 * Modules: xfs (the kernel's own, with its dependencies loaded first), kml_slow (init sleeps,
 * then succeeds), kml_fail (init sleeps, then fails with -ENODEV).
 */
import { InputError } from '../../errors.js';
import { modprobeErrno } from '../../userspace/libkmod.js';
import type { Guest } from './boot.js';

export type StormMode = 'finit' | 'finit-compressed' | 'init' | 'modprobe';
export const STORM_MODES: readonly StormMode[] = ['finit', 'finit-compressed', 'init', 'modprobe'];
export const STORM_MODULE_NAMES = ['xfs', 'kml_slow', 'kml_fail'] as const;

export interface GuestStormOptions {
  parallel: number[];
  modules?: string[];
  modes?: StormMode[];
  /** kml_slow's init sleep (ms) */
  slowMsecs?: number;
  /** kml_fail's sleep before failing (ms) */
  failMsecs?: number;
  /** per storm deadline (ms) */
  stormTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface GuestStormRow {
  module: string;
  mode: StormMode;
  n: number;
  /** outcome → count: "0", "EEXIST", "EBUSY", "ENODEV", … (modprobe: "exit 0", "exit 1 EBUSY") */
  counts: Record<string, number>;
  baselineVmallocKiB: number;
  peakVmallocKiB: number;
  /** µs from release to the last call's return */
  spanUs: number;
  /** per call, in index order */
  calls: { result: string; us: number }[];
}

export interface GuestStormResult {
  kernel: string;
  cpus: number;
  accel: string;
  kmodVersion: number | null;
  rows: GuestStormRow[];
}

/** Parse kml-storm's output into counts. */
export function parseStormOutput(out: string, mode: StormMode): Omit<GuestStormRow, 'module' | 'mode' | 'n'> {
  const counts: Record<string, number> = {};
  const calls: { result: string; us: number }[] = [];
  let base = -1;
  let peak = -1;
  for (const line of out.split('\n')) {
    const f = line.split(' ');
    if (f[0] === 'V') {
      base = Number(f[1]);
      peak = Number(f[2]);
    } else if (f[0] === 'R' && mode !== 'modprobe') {
      const result = f[3] === '0' ? '0' : f[3]!;
      calls[Number(f[1])] = { result, us: Number(f[4]) };
    } else if (f[0] === 'P') {
      const code = Number(f[2]);
      const msg = f.slice(4).join(' ');
      const errno = code === 0 ? null : modprobeErrno(msg);
      calls[Number(f[1])] = { result: `exit ${code}${errno ? ` ${errno}` : ''}`, us: Number(f[3]) };
    }
  }
  for (const c of calls) if (c) counts[c.result] = (counts[c.result] ?? 0) + 1;
  if (base < 0) throw new Error(`kml-storm gave no VmallocUsed line: ${out.slice(0, 200)}`);
  return {
    counts,
    baselineVmallocKiB: base,
    peakVmallocKiB: peak,
    spanUs: Math.max(0, ...calls.filter(Boolean).map((c) => c.us)),
    calls,
  };
}

/** "1,2,4" → [1,2,4] (InputError on anything else). */
export function parseParallelList(s: string): number[] {
  const out = s.split(',').map((x) => Number(x.trim()));
  if (!out.length || out.some((n) => !Number.isInteger(n) || n < 1 || n > 1024))
    throw new InputError(`--parallel ${s}: want a comma-separated list of integers 1..1024`);
  return out;
}

export interface StormFiles {
  stormFiles: Record<string, { plain: string; xz: string }>;
  moduleDeps: Record<string, string[]>;
  kmodVersion: number;
}

export async function runGuestStorm(guest: Guest, prepared: StormFiles, opts: GuestStormOptions): Promise<GuestStormResult> {
  const s = guest.session;
  const log = opts.log ?? (() => {});
  const modules = opts.modules ?? [...STORM_MODULE_NAMES];
  const modes = opts.modes ?? [...STORM_MODES];
  for (const m of modules)
    if (!prepared.stormFiles[m]) throw new InputError(`storm module ${m}: not in the prepared kernel (${Object.keys(prepared.stormFiles).join(', ')})`);
  for (const m of modes) if (!STORM_MODES.includes(m)) throw new InputError(`storm mode ${m}: unknown (${STORM_MODES.join(', ')})`);
  const params: Record<string, string> = {
    kml_slow: `msecs=${opts.slowMsecs ?? 1000}`,
    kml_fail: `msecs=${opts.failMsecs ?? 500}`,
  };
  const timeout = opts.stormTimeoutMs ?? 300_000;
  const rows: GuestStormRow[] = [];
  for (const module of modules) {
    // dependencies (libcrc32c for xfs) must be there for direct syscalls; modprobe loads them itself
    for (const d of prepared.moduleDeps[module] ?? []) await s.exec(['modprobe', d], 60_000);
    for (const mode of modes) {
      for (const n of opts.parallel) {
        await s.exec(['rmmod', module], 60_000); // not loaded before: a cold storm
        const p = params[module] ?? '';
        const argv =
          mode === 'modprobe'
            ? ['kml-storm', 'modprobe', String(n), module, ...(p ? [p] : [])]
            : ['kml-storm', mode, String(n), mode === 'finit-compressed' ? prepared.stormFiles[module]!.xz : prepared.stormFiles[module]!.plain, p];
        const r = await s.exec(argv, timeout);
        if (r.status !== 'exit' || r.code !== 0) throw new Error(`kml-storm ${mode} ${n} ${module}: ${r.status} ${r.code} ${r.stderr.trim()}`);
        const row = { module, mode, n, ...parseStormOutput(r.stdout, mode) };
        rows.push(row);
        log(`${module} ${mode} N=${n}: ${formatCounts(row.counts)}; VmallocUsed peak +${row.peakVmallocKiB - row.baselineVmallocKiB} KiB; ${(row.spanUs / 1000).toFixed(0)} ms`);
      }
      await s.exec(['rmmod', module], 60_000);
    }
  }
  return { kernel: s.release, cpus: guest.cpus, accel: guest.accel, kmodVersion: prepared.kmodVersion, rows };
}

export function formatCounts(c: Record<string, number>): string {
  return Object.entries(c)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, v]) => `${k} ×${v}`)
    .join(', ');
}

/** A markdown table of a storm result. */
export function stormTable(r: GuestStormResult): string {
  const lines = [
    '| module | load path | N | outcomes | VmallocUsed before → peak (KiB) | last return (ms) |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const row of r.rows)
    lines.push(
      `| ${row.module} | ${row.mode} | ${row.n} | ${formatCounts(row.counts)} | ${row.baselineVmallocKiB} → ${row.peakVmallocKiB} (+${row.peakVmallocKiB - row.baselineVmallocKiB}) | ${(row.spanUs / 1000).toFixed(0)} |`,
    );
  return lines.join('\n') + '\n';
}
