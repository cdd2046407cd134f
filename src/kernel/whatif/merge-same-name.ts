/**
 * DOC: what-if — Petr Pavlu's merge of same-name loads (2022, unmerged; spec §5.10).
 *
 * One real load attempt per module name. A load of a name that another load is already working on
 * does not make its own attempt: it sleeps (interruptible) until that attempt ends and returns
 * -EEXIST if it went LIVE, -EBUSY if it failed; a name already LIVE gets -EEXIST at once. The check
 * runs at the 'becoming' point, before any module memory is allocated and ahead of the preset's
 * own early check, so a merged load costs only its file read. Preset whatif-merge-same-name (flag
 * mergeSameName).
 */
import { WaitQueue, type Proc } from '../../sim/index.js';
import { EBUSY, EEXIST, ERESTARTSYS } from '../errno.js';
import type { KernelInternal } from '../internal.js';
import type { SameNameCheckContext, SameNamePolicy } from '../policy.js';

/** the one attempt of a name */
interface MergeAttempt {
  done: boolean;
  ok: boolean;
}

export function mergeSameName(k: KernelInternal): SameNamePolicy {
  const attempts = new Map<string, MergeAttempt>();
  const wqs = new Map<string, WaitQueue>();

  function ended(name: string, att: MergeAttempt, ok: boolean): void {
    att.done = true;
    att.ok = ok;
    if (attempts.get(name) === att) attempts.delete(name);
    wqs.get(name)?.wakeUpAll();
  }

  /** join the attempt in progress for this name, or become it */
  function* join(ctx: SameNameCheckContext): Proc<number> {
    const name = ctx.name;
    const att = attempts.get(name);
    if (att !== undefined) {
      let wq = wqs.get(name);
      if (wq === undefined) {
        wq = new WaitQueue(k.sim, `merge:${name}`);
        wqs.set(name, wq);
      }
      if (k.sim.log.wants('wait')) k.sim.log.emit('wait', { on: 'merge', name, phase: 'begin' }, ctx.task.proc);
      const r = yield* wq.waitEvent(() => att.done, { mode: 'interruptible' });
      if (k.sim.log.wants('wait')) k.sim.log.emit('wait', { on: 'merge', name, phase: 'end', status: r.status }, ctx.task.proc);
      if (r.status !== 'ok') return -ERESTARTSYS;
      ctx.recordDuplicate();
      return att.ok ? -EEXIST : -EBUSY;
    }
    if (ctx.state() === 'live') {
      ctx.recordDuplicate();
      return -EEXIST;
    }
    const mine: MergeAttempt = { done: false, ok: false };
    attempts.set(name, mine);
    ctx.atLoadEnd((ok) => ended(name, mine, ok));
    return 0;
  }

  return {
    name: 'merge-same-name',
    *check(ctx: SameNameCheckContext): Proc<number> {
      if (ctx.reason === 'becoming') {
        const r = yield* join(ctx);
        if (r !== 0) return r;
      }
      return yield* ctx.builtin();
    },
  };
}
