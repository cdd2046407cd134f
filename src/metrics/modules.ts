/**
 * DOC: which modules are loaded — the last state each module record reached.
 *
 * A module is loaded when its last state change took it to LIVE (what lsmod lists as Live at
 * the end of a run); one that went GOING and was freed, or never left COMING, is not.
 */
import type { MetricEvent, StateChange } from './events.js';

export class ModuleStates {
  private readonly last = new Map<string, StateChange['state']>();

  readonly observe = (e: MetricEvent): void => {
    if (e.type === 'state') this.last.set(e.module, e.state);
  };

  /** modules whose last state is LIVE */
  live(): Set<string> {
    const out = new Set<string>();
    for (const [m, s] of this.last) if (s === 'live') out.add(m);
    return out;
  }
}
