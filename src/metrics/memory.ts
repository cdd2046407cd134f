/**
 * DOC: memory areas as seen from their allocations — peak use, allocations that did not fit,
 * and the modules they were for.
 *
 * Use of an area is the sum of the allocations taken from it and not yet released, so the peak
 * falls out of the alloc/free stream (DESIGN: memory is accounted like the kernel does, every
 * allocation an event). Seen from the first allocation on: a simulated kernel starts empty; a
 * real guest's figure is the peak above what was in use when its trace began.
 */
import type { MetricEvent } from './events.js';

export interface AreaUse {
  used: number;
  peak: number;
  /** allocations that did not fit */
  failures: number;
}

export class MemoryUse {
  private readonly areas = new Map<string, AreaUse>();
  /** modules for which an allocation did not fit, in the order they first failed */
  readonly failedModules = new Set<string>();

  /** an area's use (all zero for an area nothing was allocated from) */
  area(name: string): AreaUse {
    let a = this.areas.get(name);
    if (a === undefined) {
      a = { used: 0, peak: 0, failures: 0 };
      this.areas.set(name, a);
    }
    return a;
  }

  readonly observe = (e: MetricEvent): void => {
    if (e.type === 'alloc') {
      const a = this.area(e.area);
      if (!e.ok) {
        a.failures++;
        this.failedModules.add(e.module);
        return;
      }
      a.used += e.bytes;
      if (a.used > a.peak) a.peak = a.used;
    } else if (e.type === 'free') {
      this.area(e.area).used -= e.bytes;
    }
  };
}
