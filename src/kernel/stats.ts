/**
 * DOC: module debugging statistics (CONFIG_MODULE_STATS, spec §5.9).
 *
 * Why it exists: on large machines, userspace asked the kernel to load the same module hundreds
 * of times during boot, and each rejected duplicate had already read the file and often
 * allocated the module's final memory. Nobody could see that memory go by, so v6.4 added
 * counters for loads that failed at each stage and the bytes they had allocated, plus a list of
 * modules rejected as duplicates and where (early "Becoming" check, or in add_unformed_module at
 * "Load"). The byte counts are the kernel's own approximation — info->len for the copy, 2 ×
 * info->len once final memory was allocated — not the page-rounded truth (memory.ts has that).
 *
 * The model counts on every preset, so a run on v5.10 can answer "what would MODULE_STATS have
 * said?"; `flags.moduleStats` only says whether the real debugfs file exists on that release.
 * The `stats` text is reproduced byte for byte: labels right-aligned in 25 columns, a tab, the
 * value; DIV_ROUND_UP averages; the duplicate table newest-first with at most 111 rows (the
 * 112th fires a WARN_ON_ONCE); and the whole text cut to the kernel's buffer of
 * 1024 + min(failed loads + failed becoming, 112) × 64 bytes.
 */
import type { KernelConstants } from './presets.js';

export type DupReason = 'becoming' | 'load';

interface ModFail {
  name: string;
  count: number;
  becoming: boolean;
  load: boolean;
}

export class ModuleStats {
  total_mod_size = 0;
  total_text_size = 0;
  invalid_kread_bytes = 0;
  invalid_decompress_bytes = 0;
  invalid_becoming_bytes = 0;
  invalid_mod_bytes = 0;
  modcount = 0;
  failed_kreads = 0;
  failed_decompress = 0;
  failed_becoming = 0;
  failed_load_modules = 0;
  /** dup_failed_modules, newest first */
  private dups: ModFail[] = [];
  private dupIndex = new Map<string, ModFail>();
  /** WARN_ON_ONCE sites that fired while rendering */
  warnings = new Set<string>();

  constructor(private readonly c: Pick<KernelConstants, 'statsMaxPreamble' | 'statsMaxFailedModPrint' | 'statsBytesPerMod'>) {}

  /** end of a successful do_init_module */
  mod_stat_add_success(totalSize: number, textSize: number): void {
    this.total_text_size += textSize;
    this.total_mod_size += totalSize;
    this.modcount++;
  }

  /** init_module copy failure (len known) or finit read failure (len 0) */
  mod_stat_bump_kread(len: number): void {
    this.failed_kreads++;
    this.invalid_kread_bytes += len;
  }

  mod_stat_bump_decompress(compressedLen: number): void {
    this.failed_decompress++;
    this.invalid_decompress_bytes += compressedLen;
  }

  /** load_module failed before module memory was allocated */
  mod_stat_bump_becoming(len: number, compressedLen: number): void {
    this.failed_becoming++;
    this.invalid_becoming_bytes += len + compressedLen;
  }

  /** load_module failed after layout_and_allocate, before do_init_module */
  mod_stat_bump_invalid(len: number, compressedLen: number): void {
    this.failed_load_modules++;
    this.invalid_mod_bytes += len * 2 + compressedLen;
  }

  /** a same-name check found an existing module (try_add_failed_module) */
  try_add_failed_module(name: string, reason: DupReason): void {
    let e = this.dupIndex.get(name);
    if (e === undefined) {
      e = { name, count: 0, becoming: false, load: false };
      this.dupIndex.set(name, e);
      this.dups.unshift(e);
    }
    e.count++;
    if (reason === 'becoming') e.becoming = true;
    else e.load = true;
  }

  get virtualMemWasted(): number {
    return this.invalid_kread_bytes + this.invalid_decompress_bytes + this.invalid_becoming_bytes + this.invalid_mod_bytes;
  }

  /** the duplicate table rows (name, count, reason), newest first */
  duplicates(): { name: string; count: number; reason: string }[] {
    return this.dups.map((d) => ({ name: d.name, count: d.count, reason: reasonStr(d) }));
  }

  /** the content of /sys/kernel/debug/modules/stats */
  text(): string {
    const size = this.c.statsMaxPreamble + Math.min(this.failed_load_modules + this.failed_becoming, this.c.statsMaxFailedModPrint) * this.c.statsBytesPerMod;
    let out = '';
    const line = (label: string, v: number) => {
      out += `${label.padStart(25, ' ')}\t${v}\n`;
    };
    const warnOnce = (cond: boolean, site: string) => {
      if (cond) this.warnings.add(site);
    };
    const divUp = (a: number, b: number) => Math.ceil(a / b);
    line('Mods ever loaded', this.modcount);
    line('Mods failed on kread', this.failed_kreads);
    line('Mods failed on decompress', this.failed_decompress);
    line('Mods failed on becoming', this.failed_becoming);
    line('Mods failed on load', this.failed_load_modules);
    line('Total module size', this.total_mod_size);
    line('Total mod text size', this.total_text_size);
    line('Failed kread bytes', this.invalid_kread_bytes);
    line('Failed decompress bytes', this.invalid_decompress_bytes);
    line('Failed becoming bytes', this.invalid_becoming_bytes);
    line('Failed kmod bytes', this.invalid_mod_bytes);
    line('Virtual mem wasted bytes', this.virtualMemWasted);
    if (this.modcount && this.total_mod_size) line('Average mod size', divUp(this.total_mod_size, this.modcount));
    if (this.modcount && this.total_text_size) line('Average mod text size', divUp(this.total_text_size, this.modcount));
    warnOnce(this.invalid_kread_bytes > 0 && this.failed_kreads === 0, 'kread');
    if (this.failed_kreads && this.invalid_kread_bytes) line('Avg fail kread bytes', divUp(this.invalid_kread_bytes, this.failed_kreads));
    warnOnce(this.invalid_becoming_bytes > 0 && this.failed_becoming === 0, 'becoming');
    if (this.failed_becoming && this.invalid_becoming_bytes) line('Avg fail becoming bytes', divUp(this.invalid_becoming_bytes, this.failed_becoming));
    warnOnce(this.invalid_decompress_bytes > 0 && this.failed_decompress === 0, 'decompress');
    if (this.failed_decompress && this.invalid_decompress_bytes) line('Avg fail decomp bytes', divUp(this.invalid_decompress_bytes, this.failed_decompress));
    warnOnce(this.invalid_mod_bytes > 0 && this.failed_load_modules === 0, 'load');
    if (this.failed_load_modules && this.invalid_mod_bytes) line('Average fail load bytes', divUp(this.invalid_mod_bytes, this.failed_load_modules));
    warnOnce(out.length >= this.c.statsMaxPreamble, 'preamble');
    if (this.dups.length > 0) {
      out += 'Duplicate failed modules:\n';
      out += `${'Module-name'.padStart(25, ' ')}\t${'How-many-times'.padStart(15, ' ')}\t${'Reason'.padStart(25, ' ')}\n`;
      let n = 0;
      for (const d of this.dups) {
        if (++n >= this.c.statsMaxFailedModPrint) {
          this.warnings.add('max-failed-mod-print');
          break;
        }
        out += `${d.name.padStart(25, ' ')}\t${String(d.count).padStart(15, ' ')}\t${reasonStr(d).padStart(25, ' ')}\n`;
      }
    }
    // scnprintf never writes past size - 1 bytes (module names are ASCII: chars = bytes)
    return out.length > size - 1 ? out.slice(0, size - 1) : out;
  }

  /** the per-counter debugfs files (same names as the kernel's) */
  counters(): Record<string, number> {
    return {
      total_mod_size: this.total_mod_size,
      total_text_size: this.total_text_size,
      invalid_kread_bytes: this.invalid_kread_bytes,
      invalid_decompress_bytes: this.invalid_decompress_bytes,
      invalid_becoming_bytes: this.invalid_becoming_bytes,
      invalid_mod_bytes: this.invalid_mod_bytes,
      modcount: this.modcount,
      failed_kreads: this.failed_kreads,
      failed_decompress: this.failed_decompress,
      failed_becoming: this.failed_becoming,
      failed_load_modules: this.failed_load_modules,
    };
  }
}

function reasonStr(d: ModFail): string {
  if (d.becoming && d.load) return 'Becoming & Load';
  if (d.becoming) return 'Becoming';
  if (d.load) return 'Load';
  return 'Bug-on-stats';
}
