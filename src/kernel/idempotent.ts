/**
 * DOC: idempotent finit_module (K20 v6.5, K22 v6.11; spec §5.7).
 *
 * Why it exists: at boot, udev workers and modprobe processes load the same .ko file dozens or
 * hundreds of times at once. Before v6.5 every one of them read the whole file into vmalloc
 * space (and often allocated the final module memory) only to be told -EEXIST. Since v6.5 the
 * kernel treats concurrent finit_module() calls on the same *file* as one operation: the first
 * caller for an inode (the "winner") does the whole read + decompress + load + init; every
 * concurrent caller with the same inode sleeps without reading or allocating anything and gets
 * the winner's exact return value — 0 for all when it loaded (not one 0 and N−1 × -EEXIST), the
 * init error for all when it failed. Arguments and flags are not part of the key.
 *
 * The key is the inode, not the module name: another copy of the file, or init_module() with a
 * buffer, is not deduplicated here and falls through to the same-name check of main.ts. Entries
 * exist only while the winner runs; a later caller becomes a new winner.
 *
 * Waiters sleep uninterruptibly in v6.5–v6.10, so a module whose init loads its own file again
 * hangs forever; v6.11 made the sleep interruptible and an interrupted waiter returns -EINTR
 * (unless the winner's value had already arrived).
 */
import { WaitQueue, type Proc } from '../sim/index.js';
import type { KFile, Task } from './api.js';
import { EINTR } from './errno.js';
import type { KernelInternal } from './internal.js';

interface IdemWaiter {
  ret: number;
  done: boolean;
}

interface IdemEntry {
  cookie: number;
  waiters: IdemWaiter[];
  wq: WaitQueue;
}

export class IdempotentTable {
  private table = new Map<number, IdemEntry>();
  /** callers that got a winner's value without loading */
  waitersServed = 0;

  constructor(private readonly k: KernelInternal) {}

  /** winners in progress */
  get inProgress(): number {
    return this.table.size;
  }

  /** idempotent_init_module(): run `load` as the winner, or wait for the winner of this inode */
  *idempotent_init_module(task: Task, f: KFile, load: () => Proc<number>): Proc<number> {
    const k = this.k;
    const sim = k.sim;
    const cookie = f.inode;
    const e = this.table.get(cookie);
    if (e === undefined) {
      const mine: IdemEntry = { cookie, waiters: [], wq: new WaitQueue(sim, `idempotent:${cookie}`) };
      this.table.set(cookie, mine);
      if (sim.log.wants('idempotent')) sim.log.emit('idempotent', { inode: cookie, role: 'winner', module: f.image.name }, task.proc);
      let ret: number;
      try {
        ret = yield* load();
      } finally {
        // idempotent_complete() (the finally also covers K21's leaked-entry error paths)
        if (this.table.get(cookie) === mine) this.table.delete(cookie);
      }
      for (const w of mine.waiters) {
        w.ret = ret;
        w.done = true;
      }
      mine.waiters.length = 0;
      mine.wq.wakeUpAll();
      if (sim.log.wants('idempotent')) sim.log.emit('idempotent', { inode: cookie, role: 'winner-done', module: f.image.name, ret }, task.proc);
      return ret;
    }
    const me: IdemWaiter = { ret: -EINTR, done: false };
    e.waiters.push(me);
    const mode = k.preset.flags.idempotentFinit === 'interruptible' ? 'interruptible' : 'uninterruptible';
    if (sim.log.wants('wait')) sim.log.emit('wait', { on: 'idempotent', inode: cookie, name: f.image.name, phase: 'begin', mode }, task.proc);
    const r = yield* e.wq.waitEvent(() => me.done, { mode });
    if (r.status !== 'ok') {
      const i = e.waiters.indexOf(me);
      if (i >= 0) e.waiters.splice(i, 1);
    } else {
      this.waitersServed++;
    }
    if (sim.log.wants('wait')) sim.log.emit('wait', { on: 'idempotent', inode: cookie, name: f.image.name, phase: 'end', status: r.status, ret: me.ret }, task.proc);
    return me.ret;
  }
}
