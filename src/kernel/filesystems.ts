/**
 * DOC: filesystem types and get_fs_type() (fs/filesystems.c, spec §4).
 *
 * mount(2) and test_kmod's FS test look a filesystem up by name. If it is not registered, the
 * kernel asks for the alias "fs-NAME" (declared by MODULE_ALIAS_FS) and looks again — exactly
 * once, and only if request_module() returned 0; a 256 or an errno means NULL without a second
 * look. A filesystem is registered by its module's init, so it is found while the module is
 * still COMING; taking the reference (try_module_get) fails once the module is GOING.
 * "fuse.sshfs" looks up "fuse" and then requires FS_HAS_SUBTYPE. When the request "succeeded" but
 * the filesystem is still missing, releases differ only in the warning: none (v4.9), WARN_ONCE
 * (v4.13 – v5.6, K4), pr_warn_once (v5.7+, K8).
 */
import type { Proc } from '../sim/index.js';
import type { FsTypeRef, Task } from './api.js';
import { EBUSY, EINVAL } from './errno.js';
import type { KernelInternal } from './internal.js';

export interface FileSystemType {
  name: string;
  /** owning module, null if built in */
  owner: string | null;
  /** FS_HAS_SUBTYPE */
  hasSubtype: boolean;
}

export class FileSystems {
  private types = new Map<string, FileSystemType>();

  constructor(private readonly k: KernelInternal, builtin: string[] = []) {
    for (const n of builtin) this.types.set(n, { name: n, owner: null, hasSubtype: n === 'fuse' });
  }

  registered(): string[] {
    return [...this.types.keys()];
  }

  register_filesystem(name: string, owner: string | null, hasSubtype = false): number {
    if (name === '' || name.includes('.')) return -EINVAL;
    if (this.types.has(name)) return -EBUSY;
    this.types.set(name, { name, owner, hasSubtype });
    if (this.k.sim.log.wants('fs')) this.k.sim.log.emit('fs', { action: 'register', name, owner });
    return 0;
  }

  unregister_filesystem(name: string): number {
    if (!this.types.delete(name)) return -EINVAL;
    if (this.k.sim.log.wants('fs')) this.k.sim.log.emit('fs', { action: 'unregister', name });
    return 0;
  }

  /** unregister every filesystem a module registered (its exit / failure path) */
  unregisterOwnedBy(module: string): void {
    for (const [n, t] of this.types) if (t.owner === module) this.unregister_filesystem(n);
  }

  /** __get_fs_type(): find + try_module_get of the owner */
  private __get_fs_type(name: string): FileSystemType | null {
    const t = this.types.get(name);
    if (t === undefined) return null;
    if (t.owner !== null && !this.k.loader.try_module_get(t.owner)) return null;
    return t;
  }

  *get_fs_type(task: Task, name: string): Proc<FsTypeRef | null> {
    const k = this.k;
    const dot = name.indexOf('.');
    const fsname = dot >= 0 ? name.slice(0, dot) : name;
    let fs = this.__get_fs_type(fsname);
    let req: number | null = null;
    if (fs === null) {
      req = yield* k.request_module(task, `fs-${fsname}`, true);
      if (req === 0) {
        fs = this.__get_fs_type(fsname);
        if (fs === null) {
          const msg = `request_module fs-${fsname} succeeded, but still no fs?`;
          switch (k.preset.flags.getFsTypeWarning) {
            case 'warn-once':
              if (k.printk.once_('get_fs_type', '------------[ cut here ]------------')) {
                k.printk.warn(msg);
                k.printk.warn(`WARNING: CPU: 0 PID: ${task.proc.pid} at fs/filesystems.c get_fs_type`);
                k.printk.warn('---[ end trace 0000000000000000 ]---');
              }
              break;
            case 'pr-warn-once':
              k.printk.once_('get_fs_type', msg);
              break;
            case 'none':
              break;
          }
        }
      }
    }
    if (fs !== null && dot >= 0 && !fs.hasSubtype) {
      if (fs.owner !== null) k.loader.module_put(fs.owner);
      fs = null;
    }
    if (k.sim.log.wants('get_fs_type')) k.sim.log.emit('get_fs_type', { name, found: fs !== null, request: req }, task.proc);
    return fs === null ? null : { name: fs.name, owner: fs.owner };
  }

  put_filesystem(ref: FsTypeRef): void {
    if (ref.owner !== null) this.k.loader.module_put(ref.owner);
  }
}
