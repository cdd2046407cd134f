/**
 * DOC: small builders for kernel tests and examples: a task, a module file, a behaviour.
 *
 * Real runs get module files from a ModuleSet (src/userspace/); the kernel tests describe a
 * handful of modules inline with these.
 */
import type { Process } from '../../../src/sim/index.js';
import type { Compression, KFile, ModuleBehaviour, ModuleImage, SectionSizes, Task } from '../../../src/kernel/api.js';

let nextInode = 1000;

/** a root task for process `proc` (CAP_SYS_MODULE and CAP_SYSLOG unless told otherwise) */
export function makeTask(proc: Process, comm = proc.name, caps: { sysModule?: boolean; syslog?: boolean } = {}): Task {
  return { proc, comm, capSysModule: caps.sysModule ?? true, capSyslog: caps.syslog ?? true };
}

export interface ModuleSpec {
  name: string;
  /** file size F (default 16 KiB) */
  size?: number;
  /** image size D (default = size, or 3 × size when compressed) */
  imageSize?: number;
  compression?: Compression;
  inode?: number;
  path?: string;
  signed?: boolean;
  sections?: SectionSizes;
  symbolDeps?: string[];
  behaviour?: Partial<ModuleBehaviour>;
  badModinfo?: boolean;
  outOfTree?: boolean;
}

export function behaviour(b: Partial<ModuleBehaviour> = {}): ModuleBehaviour {
  return { initCpuNs: 0, initSleepNs: 0, initResult: 0, ...b };
}

/** a module file; each call gets a fresh inode unless `inode` is given */
export function makeModuleFile(s: ModuleSpec): KFile {
  const size = s.size ?? 16 * 1024;
  const compression = s.compression ?? 'none';
  const image: ModuleImage = {
    name: s.name,
    imageSize: s.imageSize ?? (compression === 'none' ? size : size * 3),
    signed: s.signed ?? true,
    symbolDeps: s.symbolDeps ?? [],
    behaviour: behaviour(s.behaviour),
    ...(s.sections !== undefined ? { sections: s.sections } : {}),
    ...(s.badModinfo !== undefined ? { badModinfo: s.badModinfo } : {}),
    ...(s.outOfTree !== undefined ? { outOfTree: s.outOfTree } : {}),
  };
  const ext = compression === 'none' ? '' : compression === 'gzip' ? '.gz' : `.${compression}`;
  return { path: s.path ?? `/lib/modules/sim/kernel/${s.name}.ko${ext}`, inode: s.inode ?? nextInode++, size, compression, image };
}

/** a copy of a file with a new inode (same module, different file identity) */
export function copyFile(f: KFile): KFile {
  return { ...f, inode: nextInode++, path: `${f.path}.copy` };
}
