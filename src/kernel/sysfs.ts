/**
 * DOC: what userspace can see of the module loader (spec §2 "Observable state", §7.3 0012/0013).
 *
 * modprobe decides whether to call finit_module at all from /sys/module/NAME/initstate, so when
 * that file appears is part of the duplicate-load race: it exists only after mod_sysfs_setup()
 * during COMING, reads "coming", "live" or "going", and is gone again once the module is freed.
 * /proc/modules hides UNFORMED modules, shows "Loading" / "Live" / "Unloading", the size of the
 * core memory, the refcount and users, and the load address — as 0x0000000000000000 unless the
 * reader has CAP_SYSLOG — followed by the taint flags (e.g. "(OE)") if the module has any.
 * /proc/sys/kernel/modprobe is a KMOD_PATH_LEN (256) buffer: longer writes are cut to 255 bytes.
 */
import type { SectionSizeKey, SysfsModuleView } from './api.js';
import type { Module, ModuleLoader } from './main.js';
import { estimateSections, type KernelMemory } from './memory.js';

/** the taint letters in the kernel's order (taint_flags[] with .module = true) */
const TAINT_ORDER = 'PCOEKXTF';

export function sysfsModuleView(loader: ModuleLoader, name: string): SysfsModuleView {
  const m = loader.modules.get(name);
  if (m === undefined || !m.sysfs) return { dir: false, initstate: null };
  return { dir: true, initstate: m.state === 'live' ? 'live' : m.state === 'going' ? 'going' : 'coming' };
}

/** module_flags(mod, buf, show_state = true) */
export function moduleFlags(m: Module): string {
  const taints = [...TAINT_ORDER].filter((c) => m.taints.includes(c)).join('');
  if (taints === '' && m.state !== 'going' && m.state !== 'coming') return '';
  return `(${taints}${m.state === 'going' ? '-' : ''}${m.state === 'coming' ? '+' : ''})`;
}

/** one /proc/modules line */
export function procModulesLine(m: Module, mem: KernelMemory, capSyslog: boolean): string {
  const users = [...m.usedBy];
  const deps = users.length === 0 ? '-' : users.map((u) => `${u},`).join('');
  const state = m.state === 'going' ? 'Unloading' : m.state === 'coming' ? 'Loading' : 'Live';
  const text = m.coreAllocs[0];
  const addr = capSyslog && text !== undefined ? mem.address(text) : 0n;
  let line = `${m.name} ${m.layout.coreSize} ${m.refcnt} ${deps} ${state} 0x${addr.toString(16).padStart(16, '0')}`;
  if (m.taints !== '') line += ` ${moduleFlags(m)}`;
  return `${line}\n`;
}

/** /proc/modules: newest module first (modules are added at the list head) */
export function procModules(loader: ModuleLoader, mem: KernelMemory, capSyslog: boolean): string {
  const mods = [...loader.modules.values()].filter((m) => m.state !== 'unformed');
  let out = '';
  for (let i = mods.length - 1; i >= 0; i--) out += procModulesLine(mods[i]!, mem, capSyslog);
  return out;
}

/** proc_dostring() into a KMOD_PATH_LEN buffer: stop at a newline, keep at most len-1 bytes */
export function writeModprobePath(value: string, kmodPathLen: number): string {
  const nl = value.indexOf('\n');
  const v = nl >= 0 ? value.slice(0, nl) : value;
  return v.length > kmodPathLen - 1 ? v.slice(0, kmodPathLen - 1) : v;
}

/** /sys/module/NAME/sections: SHF_ALLOC section → the file name the kernel gives it */
const SECTION_FILES: [SectionSizeKey, string, 'core' | 'init'][] = [
  ['text', '.text', 'core'],
  ['rodata', '.rodata', 'core'],
  ['roAfterInit', '.data..ro_after_init', 'core'],
  ['data', '.data', 'core'],
  ['initText', '.init.text', 'init'],
  ['initRodata', '.init.rodata', 'init'],
  ['initData', '.init.data', 'init'],
];

/**
 * /sys/module/NAME/sections/*: one file per non-empty allocated section holding its address
 * ("0x%px\n"), zeros without CAP_SYSLOG (kmod.sh 0013). Empty sections are not listed — an
 * out-of-tree module whose code is all __init has no .text file at all.
 */
export function moduleSections(m: Module, mem: KernelMemory, alpha: number, capSyslog: boolean): Map<string, string> | null {
  if (m.state === 'unformed' || !m.sysfs) return null;
  const sizes = m.image.sections ?? estimateSections(m.image.imageSize, alpha);
  const base = { core: m.coreAllocs[0], init: m.initAllocs[0] ?? m.coreAllocs[0] };
  const offset = { core: 0, init: 0 };
  const out = new Map<string, string>();
  for (const [key, file, area] of SECTION_FILES) {
    const size = sizes[key];
    if (size <= 0) continue;
    const a = base[area];
    const addr = capSyslog && a !== undefined ? mem.address(a) + BigInt(offset[area]) : 0n;
    offset[area] += size;
    out.set(file, `0x${addr.toString(16).padStart(16, '0')}\n`);
  }
  return out;
}
