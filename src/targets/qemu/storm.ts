/**
 * DOC: real duplicate-load storms in the guest (runGuestStorm) — the guest's DupStormTarget for
 * `kmodlab storm --target qemu:NAME --parallel` (the plan and the row: src/results/dupstorm.ts).
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
import { DUPSTORM_MODES, DUPSTORM_MODULES, moduleParams, statesFor, type DupStormMode, type DupStormPlan, type DupStormRow, type DupStormTarget } from '../../results/dupstorm.js';
import { modprobeErrno } from '../../userspace/libkmod.js';
import type { Guest } from './boot.js';

export interface GuestStormOptions extends Partial<Pick<DupStormPlan, 'modules' | 'modes'>>, Omit<DupStormPlan, 'modules' | 'modes'> {
  /** per storm deadline (ms) */
  stormTimeoutMs?: number;
  /** hears each row as its storm is done */
  onRow?: (row: DupStormRow) => void;
}

export interface GuestStormResult {
  kernel: string;
  cpus: number;
  accel: string;
  kmodVersion: number | null;
  rows: DupStormRow[];
}

/** Parse kml-storm's output into counts. */
export function parseStormOutput(out: string, mode: DupStormMode): Omit<DupStormRow, 'module' | 'mode' | 'n'> {
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

export interface StormFiles {
  stormFiles: Record<string, { plain: string; xz: string }>;
  moduleDeps: Record<string, string[]>;
  kmodVersion: number;
}

export async function runGuestStorm(guest: Guest, prepared: StormFiles, opts: GuestStormOptions): Promise<GuestStormResult> {
  const s = guest.session;
  const modules = opts.modules ?? [...DUPSTORM_MODULES];
  const modes = opts.modes ?? [...DUPSTORM_MODES];
  for (const m of modules)
    if (!prepared.stormFiles[m]) throw new InputError(`storm module ${m}: not in the prepared kernel (${Object.keys(prepared.stormFiles).join(', ')})`);
  for (const m of modes) if (!DUPSTORM_MODES.includes(m)) throw new InputError(`storm mode ${m}: unknown (${DUPSTORM_MODES.join(', ')})`);
  const timeout = opts.stormTimeoutMs ?? 300_000;
  const rows: DupStormRow[] = [];
  for (const module of modules) {
    // dependencies (libcrc32c for xfs) must be there for direct syscalls; modprobe loads them itself
    for (const d of prepared.moduleDeps[module] ?? []) await s.exec(['modprobe', d], 60_000);
    for (const mode of modes) {
      for (const [state, n] of statesFor(opts, module).flatMap((st) => opts.parallel.map((k) => [st, k] as const))) {
        await s.exec(['rmmod', module], 60_000); // not loaded before: a cold storm
        const p = moduleParams(opts, module);
        if (state === 'live') {
          // loaded and LIVE before the storm: modprobe waits for its init to finish
          await s.exec(['modprobe', module, ...(p ? [p] : [])], 60_000);
          const st = await s.exec(['cat', `/sys/module/${module}/initstate`], 10_000);
          if (st.stdout.trim() !== 'live') throw new Error(`storm ${module} live: initstate ${st.stdout.trim() || 'absent'} after modprobe`);
        }
        const argv =
          mode === 'modprobe'
            ? ['kml-storm', 'modprobe', String(n), module, ...(p ? [p] : [])]
            : ['kml-storm', mode, String(n), mode === 'finit-compressed' ? prepared.stormFiles[module]!.xz : prepared.stormFiles[module]!.plain, p];
        const r = await s.exec(argv, timeout);
        if (r.status !== 'exit' || r.code !== 0) throw new Error(`kml-storm ${mode} ${n} ${module}: ${r.status} ${r.code} ${r.stderr.trim()}`);
        const row: DupStormRow = { module, mode, n, ...(state === 'live' ? { state } : {}), ...parseStormOutput(r.stdout, mode) };
        rows.push(row);
        opts.onRow?.(row);
      }
      await s.exec(['rmmod', module], 60_000);
    }
  }
  return { kernel: s.release, cpus: guest.cpus, accel: guest.accel, kmodVersion: prepared.kmodVersion, rows };
}

/** The booted guest as the storm's target (runDupStorm in src/experiments/dupstorm/run.ts). */
export function guestDupStormTarget(guest: Guest, prepared: StormFiles, opts: { stormTimeoutMs?: number } = {}): DupStormTarget<GuestStormResult> {
  return { run: (plan, onRow) => runGuestStorm(guest, prepared, { ...plan, ...opts, onRow }) };
}
