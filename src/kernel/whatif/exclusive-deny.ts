/**
 * DOC: what-if — the exclusive write-deny of v6.4-rc4 (K19, reverted before v6.4; spec §5.10).
 *
 * finit_module denied writes to the file exclusively for the whole load (read, decompress,
 * load_module, init), so a concurrent finit_module of the same file failed at once with -ETXTBSY —
 * which userspace took for a hard error, and the change was reverted. The deny ends when the load
 * returns. Preset whatif-exclusive-deny (flag exclusiveWriteDeny).
 */
import type { Proc } from '../../sim/index.js';
import { ETXTBSY } from '../errno.js';
import type { LoadFileContext, SameNamePolicy } from '../policy.js';

export function exclusiveWriteDeny(): SameNamePolicy {
  /** inodes a finit_module holds write-denied */
  const denied = new Set<number>();
  return {
    name: 'exclusive-deny',
    check: (ctx) => ctx.builtin(),
    *init_module_from_file(ctx: LoadFileContext, next: () => Proc<number>): Proc<number> {
      const inode = ctx.file.inode;
      if (denied.has(inode)) return -ETXTBSY;
      denied.add(inode);
      const ret = yield* next();
      denied.delete(inode);
      return ret;
    },
  };
}
