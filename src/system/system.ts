/**
 * DOC: one simulated machine with udevd — the machine of ./core.ts, plus the coldplug.
 *
 * Why it is its own file: udevd, the udev rules and their matcher are what a storm boots with,
 * and what a kmod.sh run never uses (~47 M instructions of imports); the selftest's target takes
 * createCoreSystem, everything else this createSystem. udevd gets the machine's modprobe host,
 * its shared module index and kmod version, the profile's udev timings and children_max, and the
 * shipped rules of the profile's systemd.
 */
import { createCoreSystem, type CoreSystem, type SystemOptions } from './core.js';
import { coldplugDevices } from '../userspace/machines/coldplug.js';
import type { Machine } from '../userspace/machines/load.js';
import { udevRulesFor } from '../userspace/udev-rules/index.js';
import { children_max, Udevd, type ColdplugStats, type UdevTimings, type Uevent } from '../userspace/udevd.js';

export interface ColdplugOptions {
  /** uevents to replay (default: every device of the profile at the system's CPU count) */
  events?: Uevent[];
  keepJournal?: boolean;
  /** virtual time (ns) the run may not pass: a boot still busy then is stopped soon after (within 4096 events) */
  untilNs?: number;
  /** checked now and then (every few thousand events): false stops the run where it is (a wall-clock watchdog) */
  keepGoing?: () => boolean;
  /** called with udevd once it started: a caller whose run is stopped from outside (a wall-clock watchdog) still reads its stats */
  started?: (udevd: Udevd) => void;
}

export interface System extends CoreSystem {
  /** udev timings in effect */
  udevTimings: UdevTimings;
  /** udevd's worker limit on this machine */
  childrenMax: number;
  /** the coldplug uevents of the profile at this CPU count */
  uevents(): Uevent[];
  /** start udevd and `udevadm trigger --action=add` now */
  coldplug(opts?: ColdplugOptions): Udevd;
  /** coldplug, run the simulation until nothing is left to do, return the stats */
  runColdplug(opts?: ColdplugOptions): ColdplugStats;
}

/** udev's own costs: the profile's measured ones, else derived from its other timings (estimates) */
export function udevTimingsOf(m: Machine): UdevTimings {
  const t = m.timings;
  return {
    // writing "add" to one uevent file ≈ one sysfs access, plus the netlink send
    triggerNs: t.udevTriggerNs ?? t.initstateReadNs,
    dispatchNs: t.udevDispatchNs ?? Math.round(t.initstateReadNs / 2),
    // fork without exec
    forkNs: Math.round(t.forkExecNs / 2),
    // a worker's libkmod context + index load: modprobe's start without its fork+exec
    workerKmodInitNs: Math.max(0, t.modprobeStartNs - t.forkExecNs),
    // the rules: a handful of sysfs reads and property matches
    ruleNs: t.udevRuleNs ?? t.initstateReadNs * 5,
  };
}

export function createSystem(o: SystemOptions = {}): System {
  const core = createCoreSystem(o);
  const { machine, sim, kernel, index, kmodVersion } = core;
  const host = core.modprobeEnv.host;
  const udevTimings = { ...udevTimingsOf(machine), ...o.udev?.timings };
  const childrenMax = children_max(o.udev?.flavour ?? machine.udev.flavour, machine.cpus, machine.ramBytes, o.udev?.childrenMax ?? machine.udev.childrenMax);
  // added to the core's own object: its moduleSet getter must stay a getter (a spread would read it)
  const system: System = Object.assign(core, {
    udevTimings,
    childrenMax,
    uevents: () => coldplugDevices(machine, machine.cpus),
    coldplug(co: ColdplugOptions = {}): Udevd {
      const u = new Udevd({
        host, index, kmodVersion, events: co.events ?? system.uevents(), childrenMax, timings: udevTimings, config: o.modprobeConfig,
        rules: o.udev?.rules ?? udevRulesFor(machine.udev.systemdVersion),
        keepJournal: co.keepJournal ?? o.udev?.keepJournal ?? false,
      });
      // udevd's netlink socket: the uevents of devices a module's init adds reach it from now on
      kernel.setUeventListener((ev) => u.kernelUevent(ev));
      u.start();
      return u;
    },
    runColdplug(co: ColdplugOptions = {}): ColdplugStats {
      const u = system.coldplug(co);
      co.started?.(u);
      const keepGoing = co.keepGoing;
      const untilNs = co.untilNs;
      if (keepGoing === undefined && untilNs === undefined) sim.run();
      else {
        // checked every 4096 events, not through run(untilNs), which would move the clock of a
        // finished boot on to the deadline (and the record's MODULE_STATS snapshot with it)
        let n = 0;
        sim.runUntil(() => (++n & 4095) === 0 && ((untilNs !== undefined && sim.now > untilNs) || (keepGoing !== undefined && !keepGoing())));
      }
      return u.stats();
    },
  });
  return system;
}
