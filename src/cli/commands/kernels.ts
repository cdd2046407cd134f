/**
 * DOC: `kmodlab kernels` — the kernel presets and their flags.
 *
 *   kmodlab kernels                       table: preset, base, the flags that matter most
 *   kmodlab kernels show NAME             one preset as JSON (flags and constants)
 *   kmodlab kernels --preset-file FILE    include / show a user preset from JSON
 *
 * `resolvePresetArg` is shared with commands that take --kernel / --preset-file. The command line
 * (options, help) is declared in ../declare/kernels.ts.
 */
import type { Command } from 'commander';
import { stdout } from '../stdio.js';
import { loadPresetFile } from '../../io/presets.js';
import { getPreset, PRESETS, type KernelPreset } from '../../kernel/presets.js';

/** The preset a command should use: --preset-file wins over a name. */
export function resolvePresetArg(name: string | undefined, presetFile: string | undefined): KernelPreset {
  if (presetFile !== undefined) return loadPresetFile(presetFile);
  return getPreset(name ?? 'newest', '--kernel');
}

const COLUMNS: [string, (p: KernelPreset) => string][] = [
  ['preset', (p) => p.name],
  ['base', (p) => p.basedOn ?? '-'],
  ['limiter', (p) => p.flags.limiter],
  ['same-name', (p) => p.flags.sameNameCheck + (p.flags.earlySameNameCheck ? '+early' : '')],
  ['idempotent', (p) => p.flags.idempotentFinit],
  ['empty-path', (p) => (p.flags.emptyModprobePath === 'zero' ? '0' : '-ENOENT')],
  ['stats', (p) => (p.flags.moduleStats ? 'yes' : 'no')],
  ['dups', (p) => (p.flags.autoloadDups ? (p.flags.autoloadDupsTrace ? 'trace' : 'warn') : 'no')],
  ['decompress', (p) => p.flags.inKernelDecompress.join(',') || '-'],
  ['what-if', (p) => [p.flags.kreadDedup && 'kread-dedup', p.flags.exclusiveWriteDeny && 'excl-deny', p.flags.mergeSameName && 'merge'].filter(Boolean).join(',') || '-'],
];

export function presetTable(presets: readonly KernelPreset[]): string {
  const rows = [COLUMNS.map(([h]) => h), ...presets.map((p) => COLUMNS.map(([, f]) => f(p)))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

/** `kmodlab kernels` (declared in ../declare/kernels.ts) */
export function kernelsAction(opts: { json?: boolean; presetFile?: string }): void {
  const list: KernelPreset[] = [...PRESETS];
  if (opts.presetFile !== undefined) list.push(loadPresetFile(opts.presetFile));
  stdout(opts.json === true ? `${JSON.stringify(list, null, 2)}\n` : presetTable(list));
}

/** `kmodlab kernels show [NAME]` */
export function showAction(name: string | undefined, _opts: unknown, cmd: Command): void {
  // --preset-file may be parsed by `kernels` itself (commander gives parent options precedence)
  const opts = cmd.optsWithGlobals<{ presetFile?: string }>();
  const p = resolvePresetArg(name, opts.presetFile);
  stdout(`${JSON.stringify(p, null, 2)}\n`);
}
