/**
 * DOC: what-if — Luis Chamberlain's kread dedup RFC (May 2023, unmerged; spec §5.10).
 *
 * Before v6.5's idempotent finit_module, the proposal was to stop duplicates at the file: an
 * inode being loaded, or loaded, cannot be passed to finit_module again. A second finit_module of
 * the same file gets -EBUSY before kernel_read_file — no vmalloc, not counted as a failed read —
 * and the inode stays taken for the module's whole lifetime (until free_module), not only while
 * the first load runs. Another copy of the file (another inode) is not stopped. Preset
 * whatif-kread-dedup (flag kreadDedup).
 */
import type { Proc } from '../../sim/index.js';
import { EBUSY } from '../errno.js';
import type { LoadFileContext, ModuleRecord, SameNamePolicy } from '../policy.js';

export function kreadDedup(): SameNamePolicy {
  /** inodes being loaded or held by a loaded module */
  const inodes = new Set<number>();
  /** the inode each loaded module holds */
  const held = new Map<ModuleRecord, number>();
  return {
    name: 'kread-dedup',
    check: (ctx) => ctx.builtin(),
    *init_module_from_file(ctx: LoadFileContext, next: () => Proc<number>): Proc<number> {
      const inode = ctx.file.inode;
      if (inodes.has(inode)) return -EBUSY; // before any vmalloc, not counted as a failed kread
      inodes.add(inode);
      const ret = yield* next();
      const m = ctx.record();
      if (ret === 0 && m !== undefined) held.set(m, inode);
      else inodes.delete(inode);
      return ret;
    },
    free_module(mod: ModuleRecord): void {
      const inode = held.get(mod);
      if (inode === undefined) return;
      held.delete(mod);
      inodes.delete(inode);
    },
  };
}
