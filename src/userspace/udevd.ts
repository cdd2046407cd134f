/**
 * DOC: systemd-udevd at coldplug — where boot-time duplicate module loads come from (spec §8.2,
 * §8.3).
 *
 * `udevadm trigger --action=add` makes the kernel emit an "add" uevent for every device. udevd's
 * main process queues them and hands each to a worker: an idle one, or a newly forked one while
 * fewer than `children_max` exist; otherwise the event waits. The worker runs the rules; for a
 * device with a MODALIAS, 80-drivers.rules runs the builtin `kmod load $env{MODALIAS}` *inside
 * the worker* through libkmod: look the alias up, skip a module that is BUILTIN or LIVE ("already
 * loaded"), else kmod_module_probe_insert_module() with the blacklist applied, and log
 * "Inserted module '%s'" on success.
 *
 * Which `kmod load` commands an event runs is the rules' business (src/userspace/udev-rules/): the
 * shipped module-loading rules of the profile's systemd version are matched against the event
 * (subsystem, kernel name, DEVTYPE and other properties, /sys/module tests) when the worker takes
 * it, and the loads of the rules that hit run afterwards in rule order — the MODALIAS load of
 * 80-drivers.rules, and by-name loads such as Debian's `kmod load sg` for SCSI devices.
 *
 * Like udevd, the main process holds back an event while an earlier one for the same device, a
 * parent or a child is queued or running (a virtio device waits for its PCI function's event).
 * An event without MODALIAS (a bus, a class device) still takes a worker for its rules. Besides
 * the trigger's events, the kernel's arrive (kernelUevent): a device a module's init added
 * (intel_rapl_common's intel_rapl_msr.0) is queued when that init runs, and settle waits for it.
 *
 * Workers are forked from one parent and share nothing afterwards: each has its own libkmod
 * context (and pays its own index load once), so no worker knows what another is loading. Every
 * CPU emits the same cpu modalias (and every ACPI processor device the same acpi one), so with N
 * CPUs N workers can look up the same modules at once; all of them see "not loaded" until the
 * first load turns LIVE, and each calls finit_module. The kernel has to sort those duplicates
 * out, and the version decides what that costs.
 *
 * Reported per run (ColdplugStats): the uevents, the workers forked, the time from the trigger to
 * the last event finished (settle, what `udevadm settle` waits for) and the journal. What the
 * workers' loads cost is not counted here: the kernel logs every finit_module/init_module, and
 * src/metrics/ observes them.
 */
import type { KernelUevent, Task } from '../kernel/api.js';
import { ENODEV, ENOENT, errnoName, strerror } from '../kernel/errno.js';
import { WaitQueue, type Process, type Proc } from '../sim/index.js';
import type { Uevent } from './machines/coldplug.js';
import { KmodCtx, spend, type KmodConfig, type KmodHost, type KmodIndex, type KmodInitstate, type ProbeFlags } from './libkmod.js';
import { kmodLoadsFor, MODALIAS_ONLY, type KmodRule, type RuleDevice, type RuleHost, type UdevRules } from './udev-rules/index.js';

/** One "add" uevent carrying a MODALIAS (machines/coldplug.ts makes a profile's list). */
export type { Uevent };

export type UdevFlavour = 'old' | 'current';

const MIB = 1024 * 1024;
/**
 * module_load_and_warn's probe: the blacklist applies whatever way the module was found (only
 * read). Every flag written out, frozen, like modprobe's: the probe reads both with one shape.
 */
const UDEV_PROBE_FLAGS: ProbeFlags = Object.freeze({ failOnLoaded: false, applyBlacklist: true, applyBlacklistAliasOnly: false, ignoreCommand: false, dryRun: false });

/** Udevd.clock's places */
const START = 0;
const LAST_FINISH = 1;

/** systemd's upper bound on workers (UDEV_WORKER_MAX) */
export const UDEV_WORKER_MAX = 2048;

/**
 * udevd's worker limit: old udevd 8 + 2·CPUs; current systemd
 * min(2·CPUs + 16, max(RAM / 128 MiB, 10), 2048). An explicit udev.children_max wins.
 */
export function children_max(flavour: UdevFlavour, cpus: number, ramBytes: number, override?: number): number {
  if (override !== undefined) return override;
  if (flavour === 'old') return 8 + 2 * cpus;
  return Math.min(2 * cpus + 16, Math.max(Math.floor(ramBytes / (128 * MIB)), 10), UDEV_WORKER_MAX);
}

export interface UdevTimings {
  /** udevadm trigger: writing one device's uevent file, and the kernel sending the uevent */
  triggerNs: number;
  /** the main process taking one event off its queue and handing it over */
  dispatchNs: number;
  /** forking a worker (paid by the main process) */
  forkNs: number;
  /** a new worker's libkmod context and index load (once per worker) */
  workerKmodInitNs: number;
  /** running the rules for one event, besides the builtin kmod */
  ruleNs: number;
}

export interface UdevdOptions {
  host: KmodHost;
  index: KmodIndex;
  kmodVersion: number;
  events: readonly Uevent[];
  childrenMax: number;
  timings: UdevTimings;
  config?: KmodConfig;
  /** the module-loading rules (default: only the MODALIAS rule of 80-drivers.rules) */
  rules?: UdevRules;
  /** keep the journal lines ("Inserted module 'kvm_intel'", …) */
  keepJournal?: boolean;
}

export interface ColdplugStats {
  uevents: number;
  childrenMax: number;
  /** workers forked */
  workers: number;
  /** "Inserted module" lines per module (the probe returned 0 — also when the kernel said EEXIST) */
  insertedByModule: Record<string, number>;
  /** module lookups skipped because the module was LIVE or built in ("already loaded") */
  alreadyLoaded: number;
  /** events that hit each module-loading rule, by "FILE:LINE" */
  ruleHits: Record<string, number>;
  /** virtual time the trigger started */
  startNs: number;
  /** from the trigger's start until the last event finished */
  settleNs: number;
  /** events finished so far */
  finished: number;
  journal: string[];
}

interface Worker {
  id: number;
  proc: Process<void> | null;
  event: Uevent | null;
  wq: WaitQueue;
  ctx: KmodCtx;
}

export class Udevd {
  private readonly queue = new EventQueue();
  private readonly idle: Worker[] = [];
  private readonly workers: Worker[] = [];
  private readonly mainWq: WaitQueue;
  /** devpaths of events being handled (count), and every ancestor of one */
  private readonly busyExact = new Map<string, number>();
  private readonly busyAnc = new Map<string, number>();
  private exiting = false;
  private readonly st: ColdplugStats;
  /**
   * [the trigger's start, the last event's end] (virtual ns). In a Float64Array, not in fields of
   * this object or of `st`: a number field holds a small integer until the clock passes 2^30 ns,
   * and V8 then gives the object a new shape, under code compiled for the old one (main(), the
   * workers and the trigger read this object after every yield).
   */
  private readonly clock = new Float64Array(2);
  /** uevents the kernel sent while the coldplug ran (devices a module's init added) */
  private kernelEvents = 0;
  /**
   * the timings, copied into one literal made here: the caller's object (a spread of the
   * machine's and the options') had a shape of its own in the first run of a thread, and every
   * process of udevd deoptimised on the second
   */
  private readonly t: UdevTimings;

  constructor(private readonly o: UdevdOptions) {
    this.mainWq = new WaitQueue(o.host.sim, 'udevd.main');
    const t = o.timings;
    this.t = { triggerNs: t.triggerNs, dispatchNs: t.dispatchNs, forkNs: t.forkNs, workerKmodInitNs: t.workerKmodInitNs, ruleNs: t.ruleNs };
    this.st = {
      // startNs and settleNs are stats()'s, from the clock
      uevents: o.events.length, childrenMax: o.childrenMax, workers: 0, insertedByModule: {}, alreadyLoaded: 0, ruleHits: {}, startNs: 0, settleNs: 0,
      finished: 0, journal: [],
    };
  }

  /** true once every event has been handled */
  get settled(): boolean {
    return this.st.finished === this.o.events.length + this.kernelEvents;
  }

  /**
   * A uevent from the kernel (netlink), not from the trigger: a device a module's init just added.
   * It is queued like the trigger's; `udevadm settle` waits for it too.
   */
  kernelUevent(kev: KernelUevent): void {
    const { MODALIAS, DEVTYPE, DRIVER, ...rest } = kev.env;
    const ev: Uevent = { devpath: kev.devpath, subsystem: kev.subsystem, modalias: MODALIAS ?? '' };
    if (DEVTYPE !== undefined) ev.devtype = DEVTYPE;
    if (DRIVER !== undefined) ev.driver = DRIVER;
    if (Object.keys(rest).length > 0) ev.properties = rest;
    this.kernelEvents++;
    this.queue.push(ev);
    this.mainWq.wakeUpAll();
  }

  /** start udevd's main process and `udevadm trigger` (now) */
  start(): void {
    const sim = this.o.host.sim;
    this.clock[START] = sim.now;
    this.clock[LAST_FINISH] = sim.now;
    sim.spawn('systemd-udevd', this.main());
    sim.spawn('udevadm-trigger', this.trigger());
  }

  stats(): ColdplugStats {
    return { ...this.st, startNs: this.clock[START]!, settleNs: this.clock[LAST_FINISH]! - this.clock[START]! };
  }

  private *trigger(): Proc<void> {
    const { host } = this.o;
    const events = this.o.events;
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      yield* spend(host, this.t.triggerNs);
      this.queue.push(ev);
      this.mainWq.wakeUpAll();
    }
  }

  private *main(): Proc<void> {
    let next = -1;
    // one condition for every wait (not a closure per event)
    const ready = (): boolean => {
      if (this.settled) return true;
      if (this.idle.length === 0 && this.workers.length >= this.o.childrenMax) return false;
      next = this.nextEvent();
      return next >= 0;
    };
    while (true) {
      next = -1;
      yield* this.mainWq.waitEvent(ready);
      if (this.settled) break;
      const ev = this.queue.take(next);
      this.markBusy(ev.devpath, 1);
      yield* spend(this.o.host, this.t.dispatchNs);
      const w = this.idle.shift();
      if (w !== undefined) {
        w.event = ev;
        w.wq.wakeUpAll();
        continue;
      }
      yield* spend(this.o.host, this.t.forkNs);
      this.fork(ev);
    }
    // settled: let the idle workers exit (udevd kills idle workers after a while)
    this.exiting = true;
    for (const w of this.workers) w.wq.wakeUpAll();
  }

  /**
   * A new worker for `ev` (udevd forks it once the fork's CPU time is spent). A method of its own:
   * main() runs it at most children_max times, and V8 compiles main() again at every
   * deoptimisation, in every thread.
   */
  private fork(ev: Uevent): void {
    const nw: Worker = {
      id: this.workers.length,
      proc: null,
      event: ev,
      wq: new WaitQueue(this.o.host.sim, `udev-worker.${this.workers.length}`),
      // the fork's copy of the parent's context: from here on it is this worker's alone
      ctx: new KmodCtx(this.o.index, this.o.host, { kmodVersion: this.o.kmodVersion, config: this.o.config }),
    };
    this.workers.push(nw);
    this.st.workers++;
    nw.proc = this.o.host.sim.spawn(`systemd-udevd-worker-${nw.id}`, this.worker(nw));
  }

  /**
   * udevd's event dependencies: an event waits while an earlier one (queued or running) is for
   * the same device, a parent or a child of it (a virtio device waits for its PCI function).
   * Returns the queue index of the first event nothing blocks, or -1.
   */
  private nextEvent(): number {
    let exact: Map<string, number> | null = null;
    let anc: Map<string, number> | null = null;
    for (let i = 0; i < this.queue.length; i++) {
      const e = this.queue.at(i);
      if (!isBlocked(e.devpath, this.busyExact, this.busyAnc) && (exact === null || !isBlocked(e.devpath, exact, anc!))) return i;
      exact ??= new Map();
      anc ??= new Map();
      mark(exact, anc, e.devpath, 1);
    }
    return -1;
  }

  private markBusy(devpath: string, d: 1 | -1): void {
    mark(this.busyExact, this.busyAnc, devpath, d);
  }

  private *worker(w: Worker): Proc<void> {
    const { sim } = this.o.host;
    const task: Task = { proc: sim.current!, comm: '(udev-worker)', capSysModule: true, capSyslog: true };
    yield* spend(this.o.host, this.t.workerKmodInitNs);
    const woken = (): boolean => w.event !== null || this.exiting;
    while (true) {
      const ev = w.event!;
      yield* spend(this.o.host, this.t.ruleNs);
      // the rules are matched first, their RUN{builtin} loads run afterwards in rule order
      // indexes, not for-of, here and in builtinKmodLoad: a generator keeps an iterator (and a
      // result object per step) alive across its yields
      const loads = this.loadsFor(ev);
      for (let i = 0; i < loads.length; i++) {
        const load = loads[i]!;
        const key = ruleKey(load.rule);
        this.st.ruleHits[key] = (this.st.ruleHits[key] ?? 0) + 1;
        const names = load.names;
        if (names.length > 0) for (let j = 0; j < names.length; j++) yield* this.builtinKmodLoad(w.ctx, task, names[j]!);
        else if (ev.modalias) yield* this.builtinKmodLoad(w.ctx, task, ev.modalias);
      }
      w.event = null;
      this.markBusy(ev.devpath, -1);
      this.st.finished++;
      this.clock[LAST_FINISH] = sim.now;
      this.idle.push(w);
      this.mainWq.wakeUpAll();
      yield* w.wq.waitEvent(woken);
      if (w.event === null) return;
    }
  }

  /** the rules' kmod loads for one "add" event, matched against what the kernel shows now */
  private loadsFor(ev: Uevent) {
    const props: Record<string, string> = { ...ev.properties };
    if (ev.modalias) props.MODALIAS = ev.modalias;
    if (ev.devtype) props.DEVTYPE = ev.devtype;
    // driver always set (undefined when none): one shape for every event's device
    const dev: RuleDevice = { action: 'add', devpath: ev.devpath, subsystem: ev.subsystem, driver: ev.driver, properties: props };
    return kmodLoadsFor((this.o.rules ?? MODALIAS_ONLY).rules, dev, this.ruleHost);
  }

  /** what the rules' TEST keys see: /sys/module/NAME exists now (one object for all events) */
  private readonly ruleHost: RuleHost = {
    sysfsExists: (rel) => {
      const m = /^module\/([^/]+)$/.exec(rel);
      return m !== null && this.o.host.kernel.sysfsModule(m[1]!).dir;
    },
  };

  /** udev's builtin `kmod load MODALIAS` (module_load_and_warn for each module the alias resolves to) */
  private *builtinKmodLoad(ctx: KmodCtx, task: Task, modalias: string): Proc<void> {
    // the journal's lines are made only when they are kept (one per module looked at)
    const keep = this.o.keepJournal === true;
    const list = ctx.kmod_module_new_from_lookup(modalias);
    if (list.length === 0) {
      if (keep) this.journal(`No module matches '${modalias}'`);
      return;
    }
    for (let i = 0; i < list.length; i++) {
      const mod = list[i]!;
      // kmod_module_get_initstate, written out (one generator less per module looked at)
      let state: KmodInitstate | number = 'builtin';
      if (!mod.builtin) {
        yield* ctx.initstateRead();
        state = ctx.initstateOf(mod);
      }
      if (state === 'builtin') {
        this.st.alreadyLoaded++;
        if (keep) this.journal(`Module '${mod.name}' is built in`);
        continue;
      }
      if (state === 'live') {
        this.st.alreadyLoaded++;
        if (keep) this.journal(`Module '${mod.name}' is already loaded`);
        continue;
      }
      const r = yield* ctx.kmod_module_probe_insert_module(task, mod, UDEV_PROBE_FLAGS);
      if (r.err === 0 && !r.blacklisted) this.st.insertedByModule[mod.name] = (this.st.insertedByModule[mod.name] ?? 0) + 1;
      if (!keep) continue;
      if (r.blacklisted) this.journal(`Module '${mod.name}' is deny-listed`);
      else if (r.err === 0) this.journal(`Inserted module '${mod.name}'`);
      else if (r.err === -ENODEV || r.err === -ENOENT) this.journal(`Failed to insert module '${mod.name}': ${strerror(r.err)}`);
      else this.journal(`Failed to insert module '${mod.name}': ${strerror(r.err)} (${errnoName(r.err)})`);
    }
  }

  private journal(line: string): void {
    if (this.o.keepJournal) this.st.journal.push(line);
  }
}

/**
 * udevd's event queue, in arrival order: events are taken from anywhere (the first one nothing
 * blocks), nearly always the first. An array with a head index, so taking the first of the
 * 16,000 events a large machine's trigger queues does not move the rest (Array.prototype.splice
 * did, for every dispatch).
 */
class EventQueue {
  private items: (Uevent | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(ev: Uevent): void {
    this.items.push(ev);
  }

  /** the i-th queued event (0 = the oldest) */
  at(i: number): Uevent {
    return this.items[this.head + i]!;
  }

  /** remove and return the i-th queued event */
  take(i: number): Uevent {
    if (i !== 0) return this.items.splice(this.head + i, 1)[0]!;
    const ev = this.items[this.head]!;
    this.items[this.head++] = undefined;
    // drop the taken slots now and then (amortised O(1) per event)
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return ev;
  }
}

/** "FILE:LINE" of a rule, made once per rule (ruleHits counts every event that hits it) */
const ruleKeys = new WeakMap<KmodRule, string>();
function ruleKey(r: KmodRule): string {
  let k = ruleKeys.get(r);
  if (k === undefined) ruleKeys.set(r, (k = `${r.file}:${r.line}`));
  return k;
}

/**
 * the proper ancestors of a devpath, at '/' boundaries; made once per devpath (the main process
 * asks again for every queued event each time it looks for the next one), never changed
 */
const ancestorsOf = new Map<string, readonly string[]>();
function ancestors(p: string): readonly string[] {
  let out = ancestorsOf.get(p);
  if (out !== undefined) return out;
  const a: string[] = [];
  for (let i = p.indexOf('/', 1); i > 0; i = p.indexOf('/', i + 1)) a.push(p.slice(0, i));
  if (ancestorsOf.size >= 100_000) ancestorsOf.clear();
  ancestorsOf.set(p, (out = a));
  return out;
}

function bump(m: Map<string, number>, k: string, d: number): void {
  const v = (m.get(k) ?? 0) + d;
  if (v === 0) m.delete(k);
  else m.set(k, v);
}

function mark(exact: Map<string, number>, anc: Map<string, number>, devpath: string, d: number): void {
  bump(exact, devpath, d);
  for (const a of ancestors(devpath)) bump(anc, a, d);
}

/** same device busy, a child of it busy (it is someone's ancestor), or a parent busy */
function isBlocked(devpath: string, exact: Map<string, number>, anc: Map<string, number>): boolean {
  if (exact.has(devpath) || anc.has(devpath)) return true;
  for (const a of ancestors(devpath)) if (exact.has(a)) return true;
  return false;
}
