/**
 * DOC: memory — the virtual-memory cost of loading modules (spec §5.8).
 *
 * Duplicate module loads are expensive not because of CPU but because every rejected duplicate
 * held vmalloc space while it slept: the kernel_read_file buffer, the decompressed pages, and
 * (before v6.4) the final module allocation. On big machines that exhausted the module area and
 * boots failed with "vmap allocation for size N failed". So every allocation the load path makes
 * is an event here, with the kernel's rounding (whole 4 KiB pages, plus one guard page per
 * vmalloc/module_alloc area) and a lifetime, in one of three areas:
 *
 *   - vmalloc: kread buffers, init_module copies, the decompressor's working memory (xz's
 *     dictionary, zlib's and zstd's workspace: decompress.ts), vmap()ed decompressed pages.
 *     x86-64 default: 32 TiB (4-level paging), practically unlimited. A vmap() takes address
 *     space like a vmalloc but maps pages allocated one by one (alloc_page), which
 *     /proc/meminfo's VmallocUsed does not count: such allocations are marked `vmap` and
 *     counted apart (MemoryArea.mapped), so VmallocUsed can be told from the address space;
 *   - module: module_alloc()/execmem regions. x86-64 default 1008 MiB = MODULES_VADDR
 *     (0xffffffffc0000000) … MODULES_END (0xffffffffff000000): the 2 GiB above
 *     __START_KERNEL_map minus the 1 GiB KASLR reserves for the kernel image, minus the fixmap;
 *   - percpu: a module's .data..percpu (unlimited in the model).
 *
 * Module memory comes from the module's real section sizes when known, else from the spec's
 * α·D estimate, split over the regions and page-rounded per region. Pre-v6.4 kernels allocate
 * one "core" and one "init" area; v6.4+ (K18) allocates each of the 7 module_memory types
 * separately (one guard page each).
 */
import type { Sim } from '../sim/index.js';
import type { SectionSizes } from './api.js';
import type { Printk } from './printk.js';

export const PAGE_SIZE = 4096;
export const DEFAULT_VMALLOC_BYTES = 32 * 2 ** 40;
export const DEFAULT_MODULE_AREA_BYTES = 0x3f000000;
export const DEFAULT_MODULE_MEMORY_ALPHA = 0.5;
/** MODULES_VADDR on x86-64 with KASLR (for /proc/modules addresses) */
const MODULES_VADDR = 0xffffffffc0000000n;
const VMALLOC_START = 0xffffc90000000000n;

export type AreaName = 'vmalloc' | 'module' | 'percpu';

/** What an allocation is for (the names of spec §5.8 / the kernel's module_memory types). */
export type AllocKind =
  | 'kread'
  | 'init_module_copy'
  | 'decompress'
  | 'decompress_workspace'
  | 'core'
  | 'init'
  | 'text'
  | 'data'
  | 'rodata'
  | 'ro_after_init'
  | 'init_text'
  | 'init_data'
  | 'init_rodata'
  | 'percpu';

export interface Allocation {
  id: number;
  area: AreaName;
  kind: AllocKind;
  /** bytes requested */
  bytes: number;
  /** bytes of address space taken: page-rounded, + a guard page for vmalloc/module areas */
  size: number;
  /** module name the allocation belongs to (the name in the image) */
  module: string;
  /** virtual time of allocation */
  t: number;
  live: boolean;
  /** offset in the area (for addresses shown in /proc/modules) */
  offset: number;
  /** vmap() of alloc_page'd pages (the decompressed image), not a vmalloc */
  vmap: boolean;
}

export interface MemoryOptions {
  /** vmalloc area size, bytes (default 32 TiB) */
  vmallocBytes?: number;
  /** module area size, bytes (default 1008 MiB) */
  moduleAreaBytes?: number;
  /** α of the M ≈ α·D estimate for modules without known section sizes (default 0.5) */
  moduleMemoryAlpha?: number;
}

export class MemoryArea {
  used = 0;
  peak = 0;
  /** live allocations */
  count = 0;
  /** allocations that did not fit */
  failures = 0;
  /** of `used`, the bytes of vmap()ed areas (not in VmallocUsed) */
  mapped = 0;
  /** bump pointer for addresses (wraps; the model does not track fragmentation) */
  private bump = 0;
  constructor(
    readonly name: AreaName,
    readonly size: number,
  ) {}

  nextOffset(size: number): number {
    if (this.size === Infinity) {
      const o = this.bump;
      this.bump += size;
      return o;
    }
    if (this.bump + size > this.size) this.bump = 0;
    const o = this.bump;
    this.bump += size;
    return o;
  }
}

export function pageAlign(n: number): number {
  return Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;
}

/** One region of module memory as layout_and_allocate lays it out. */
export interface ModuleRegion {
  kind: AllocKind;
  /** page-rounded size (what mod->mem[type].size holds; stats count this) */
  size: number;
  init: boolean;
  text: boolean;
}

export interface ModuleLayout {
  regions: ModuleRegion[];
  /** .data..percpu bytes */
  percpu: number;
  /** the size column of /proc/modules (core regions) */
  coreSize: number;
  /** stats: Σ region sizes, and text + init_text */
  totalSize: number;
  textSize: number;
}

/**
 * Estimated sections from α·D when the real ones are unknown (fractions are a documented guess).
 * The symbol table's share is 0.1: kallsyms copies it twice (the whole table to init, about as
 * much again to the core, kallsymsLayout below), so the regions still add up to about α·D.
 */
export function estimateSections(imageSize: number, alpha = DEFAULT_MODULE_MEMORY_ALPHA): SectionSizes {
  const m = alpha * imageSize;
  const r = (f: number) => Math.round(m * f);
  return { text: r(0.4), rodata: r(0.2), data: r(0.15), roAfterInit: 0, initText: r(0.05), initData: 0, initRodata: 0, symtab: r(0.1), percpu: 0 };
}

/** sizeof(struct mod_kallsyms): the temporary kallsyms header layout_symtab puts in the init data */
export const MOD_KALLSYMS_BYTES = 32;
/**
 * For a module whose symbol table is known only as .symtab + .strtab bytes (a snapshot): the core
 * copy as a share of those bytes, by table size — the medians over the 4022 modules of Debian
 * 6.1.0-50-amd64 (data/calibration/module-layout-debian-6.1.md). Small drivers mostly reference
 * undefined symbols, which stay out of the core copy (0.34 below 2 KB); large modules define most
 * of theirs (0.96 from 100 KB; xfs 1.02, kvm 1.00). [upper bound of the table size, share]
 */
export const CORE_SYMTAB_SHARE: readonly (readonly [number, number])[] = [
  [2_000, 0.34],
  [5_000, 0.41],
  [10_000, 0.52],
  [20_000, 0.64],
  [50_000, 0.78],
  [100_000, 0.87],
  [Infinity, 0.96],
];
/** .symtab + .strtab bytes per symbol over the same tree */
export const SYMTAB_BYTES_PER_SYMBOL = 43;

/** kallsyms' two copies of a module's symbols (layout_symtab), exact when read from the .ko. */
export function kallsymsLayout(sections: SectionSizes): { core: number; init: number } {
  const { symtab } = sections;
  if (symtab === 0) return { core: 0, init: 0 };
  const share = CORE_SYMTAB_SHARE.find(([upTo]) => symtab < upTo)![1];
  const core = sections.coreSymtab ?? Math.round(symtab * share);
  const symbols = sections.symbols ?? Math.round(symtab / SYMTAB_BYTES_PER_SYMBOL);
  // init: .symtab (8-aligned) + .strtab, then the mod_kallsyms header and one type byte per symbol
  return { core, init: symtab + MOD_KALLSYMS_BYTES + symbols };
}

const align8 = (n: number): number => Math.ceil(n / 8) * 8;

/**
 * layout_sections() + layout_symtab(): the regions a module's memory is allocated as.
 *
 * Before v6.4 (one core and one init allocation) every group of the core — text, rodata,
 * ro_after_init, data — starts on a page (CONFIG_STRICT_MODULE_RWX), the whole layout is rounded
 * to a page, and only then is kallsyms' core copy appended, so it takes pages of its own; the
 * init layout likewise gets the full symbol table on pages after its data. Measured on Debian
 * 6.1 (module_alloc sizes, data/calibration/module-layout-debian-6.1.md): xfs core 1,970,176
 * bytes and init 454,656, exactly this. From v6.4 each module_memory type is its own allocation,
 * rounded to pages when it is allocated: the kallsyms copies follow the data (and init data)
 * directly.
 */
export function moduleLayout(sections: SectionSizes, types: 'core-init' | 'module-memory'): ModuleLayout {
  const pa = pageAlign;
  const ks = kallsymsLayout(sections);
  let regions: ModuleRegion[];
  if (types === 'module-memory') {
    const data = ks.core > 0 ? align8(sections.data) + ks.core : sections.data;
    const initData = ks.init > 0 ? align8(sections.initData) + ks.init : sections.initData;
    const all: ModuleRegion[] = [
      { kind: 'text', size: pa(sections.text), init: false, text: true },
      { kind: 'data', size: pa(data), init: false, text: false },
      { kind: 'rodata', size: pa(sections.rodata), init: false, text: false },
      { kind: 'ro_after_init', size: pa(sections.roAfterInit), init: false, text: false },
      { kind: 'init_text', size: pa(sections.initText), init: true, text: true },
      { kind: 'init_data', size: pa(initData), init: true, text: false },
      { kind: 'init_rodata', size: pa(sections.initRodata), init: true, text: false },
    ];
    regions = all.filter((r) => r.size > 0);
  } else {
    const core = pa(sections.text) + pa(sections.rodata) + pa(sections.roAfterInit) + pa(sections.data) + pa(ks.core);
    const init = pa(sections.initText) + pa(sections.initRodata) + pa(sections.initData) + pa(ks.init);
    regions = [];
    if (core > 0) regions.push({ kind: 'core', size: core, init: false, text: false });
    if (init > 0) regions.push({ kind: 'init', size: init, init: true, text: false });
  }
  if (regions.length === 0) regions.push({ kind: types === 'module-memory' ? 'text' : 'core', size: PAGE_SIZE, init: false, text: true });
  const coreSize = regions.filter((r) => !r.init).reduce((a, r) => a + r.size, 0);
  const totalSize = regions.reduce((a, r) => a + r.size, 0);
  const textSize = pa(sections.text) + pa(sections.initText);
  return { regions, percpu: sections.percpu, coreSize, totalSize, textSize };
}

export class KernelMemory {
  readonly vmalloc: MemoryArea;
  readonly module: MemoryArea;
  readonly percpu: MemoryArea;
  readonly alpha: number;
  /** live allocations by id (insertion order = allocation order) */
  readonly live = new Map<number, Allocation>();
  private nextId = 1;
  /** every allocation ever made (count) and bytes */
  allocCount = 0;
  /** modules for which an allocation did not fit (the storm reports which of them never loaded) */
  readonly failedModules = new Set<string>();

  constructor(
    private readonly sim: Sim,
    private readonly printk: Printk,
    opts: MemoryOptions = {},
  ) {
    this.vmalloc = new MemoryArea('vmalloc', opts.vmallocBytes ?? DEFAULT_VMALLOC_BYTES);
    this.module = new MemoryArea('module', opts.moduleAreaBytes ?? DEFAULT_MODULE_AREA_BYTES);
    this.percpu = new MemoryArea('percpu', Infinity);
    this.alpha = opts.moduleMemoryAlpha ?? DEFAULT_MODULE_MEMORY_ALPHA;
  }

  area(name: AreaName): MemoryArea {
    return name === 'vmalloc' ? this.vmalloc : name === 'module' ? this.module : this.percpu;
  }

  /**
   * vmalloc()/module_alloc()/vmap(): page-round, add the guard page, take it from the area.
   * Returns null (and prints the kernel's vmap failure line) when it does not fit.
   */
  alloc(areaName: AreaName, kind: AllocKind, bytes: number, module: string, opts?: { vmap?: boolean }): Allocation | null {
    const area = this.area(areaName);
    const vmap = opts?.vmap === true;
    const size = areaName === 'percpu' ? bytes : pageAlign(Math.max(1, bytes)) + PAGE_SIZE;
    const log = this.sim.log.enabled;
    if (area.used + size > area.size) {
      area.failures++;
      this.failedModules.add(module);
      this.printk.ratelimited('vmap', 'alloc_vmap_area', `vmap allocation for size ${size} failed: use vmalloc=<size> to increase size`);
      if (log) {
        const fields: Record<string, unknown> = { id: 0, area: areaName, kind, bytes, size, module, ok: false };
        if (vmap) fields.vmap = vmap;
        this.sim.log.emit('alloc', fields);
      }
      return null;
    }
    area.used += size;
    if (vmap) area.mapped += size;
    area.count++;
    if (area.used > area.peak) area.peak = area.used;
    const a: Allocation = { id: this.nextId++, area: areaName, kind, bytes, size, module, t: this.sim.now, live: true, offset: area.nextOffset(size), vmap };
    this.live.set(a.id, a);
    this.allocCount++;
    if (log) {
      const fields: Record<string, unknown> = { id: a.id, area: areaName, kind, bytes, size, module, ok: true, used: area.used };
      if (vmap) fields.vmap = vmap;
      this.sim.log.emit('alloc', fields);
    }
    return a;
  }

  /**
   * A vfree'd vmalloc area waits on the lazy purge list (mm/vmalloc.c, free_vmap_area_noflush)
   * until the next purge flushes the TLB for it: the next vm_unmap_aliases() then has work to do.
   * Set by every free in the vmalloc area; the kernel's vmap_purge clears it.
   */
  lazyPurgePending = false;

  free(a: Allocation | null | undefined): void {
    if (a === null || a === undefined || !a.live) return;
    a.live = false;
    if (a.area === 'vmalloc') this.lazyPurgePending = true;
    const area = this.area(a.area);
    area.used -= a.size;
    if (a.vmap) area.mapped -= a.size;
    area.count--;
    this.live.delete(a.id);
    if (this.sim.log.enabled) this.sim.log.emit('free', { id: a.id, area: a.area, kind: a.kind, size: a.size, module: a.module, used: area.used, heldNs: this.sim.now - a.t });
  }

  freeAll(list: (Allocation | null)[]): void {
    for (const a of list) this.free(a);
  }

  /** the kernel virtual address of an allocation (0x%px format without the 0x) */
  address(a: Allocation): bigint {
    return (a.area === 'module' ? MODULES_VADDR : VMALLOC_START) + BigInt(a.offset);
  }

  /** peak and current use per area */
  summary(): Record<AreaName, { used: number; peak: number; count: number; failures: number; size: number }> {
    const s = (m: MemoryArea) => ({ used: m.used, peak: m.peak, count: m.count, failures: m.failures, size: m.size });
    return { vmalloc: s(this.vmalloc), module: s(this.module), percpu: s(this.percpu) };
  }
}
