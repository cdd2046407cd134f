/**
 * DOC: a tiny stand-in kernel for the userspace tests (not a test file itself).
 *
 * Why: libkmod, modprobe and udevd are tested against the KernelApi contract alone, so their
 * tests do not depend on the real kernel model's details. This kernel implements the v6.1-stable
 * same-name check (wait while UNFORMED/COMING, then -EEXIST if LIVE else -EBUSY), sysfs
 * visibility from COMING on, init via the module's behaviour, refcounts from dependencies,
 * delete_module, and request_module through a usermode-helper host. It records every call, and
 * logs finit_module/init_module entry and exit like the real kernel (src/kernel/kernel.ts), so
 * src/metrics/ can observe userspace's loads here too.
 */
import type { FsTypeRef, KernelApi, KFile, ModuleInitContext, SysfsModuleView, Task, UsermodeHelperHost } from '../../src/kernel/api.js';
import { EBUSY, EEXIST, ENOENT, ENOSYS, EWOULDBLOCK } from '../../src/kernel/errno.js';
import { WaitQueue, type CpuPool, type Proc, type Sim } from '../../src/sim/index.js';

type State = 'unformed' | 'coming' | 'live' | 'going';
interface Rec {
  name: string;
  state: State;
  refcnt: number;
  deps: string[];
  sysfsDir: boolean;
}

export interface StubCall {
  t: number;
  how: 'finit' | 'init' | 'delete';
  module: string;
  path?: string;
  inode?: number;
  flags?: number;
  len?: number;
  result: number;
}

export interface StubKernelOptions {
  /** time from syscall entry to the same-name check (read + layout) */
  loadNs?: number;
  /** time from the check to COMING */
  formNs?: number;
  /** finit_module is missing (-ENOSYS) */
  noFinit?: boolean;
  /** a window in which /sys/module/NAME exists without initstate */
  dirBeforeInitstateNs?: number;
}

export class StubKernel implements KernelApi {
  readonly release = 'stub';
  modprobePath = '/sbin/modprobe';
  umh: UsermodeHelperHost | null = null;
  readonly calls: StubCall[] = [];
  private mods = new Map<string, Rec>();
  private wq: WaitQueue;
  private fs = new Map<string, string>();

  constructor(
    readonly sim: Sim,
    readonly cpu: CpuPool,
    readonly o: StubKernelOptions = {},
  ) {
    this.wq = new WaitQueue(sim, 'module_wq');
  }

  *finit_module(task: Task, file: KFile | null, args: string, flags: number): Proc<number> {
    const log = this.sim.log;
    if (log.enabled) log.emit('finit', { phase: 'enter', module: file?.image.name ?? null, inode: file?.inode ?? null, flags }, task.proc);
    let r = -ENOSYS;
    if (!this.o.noFinit) {
      r = yield* this.load(task, file!, args);
      this.calls.push({ t: this.sim.now, how: 'finit', module: file!.image.name, path: file!.path, inode: file!.inode, flags, result: r });
    }
    if (log.enabled) log.emit('finit', { phase: 'exit', module: file?.image.name ?? null, inode: file?.inode ?? null, ret: r }, task.proc);
    return r;
  }

  *init_module(task: Task, file: KFile, len: number, args: string): Proc<number> {
    const log = this.sim.log;
    if (log.enabled) log.emit('init_module', { phase: 'enter', module: file.image.name, len }, task.proc);
    const r = yield* this.load(task, file, args);
    this.calls.push({ t: this.sim.now, how: 'init', module: file.image.name, path: file.path, inode: file.inode, len, result: r });
    if (log.enabled) log.emit('init_module', { phase: 'exit', module: file.image.name, ret: r }, task.proc);
    return r;
  }

  private *load(task: Task, file: KFile, args: string): Proc<number> {
    const name = file.image.name;
    yield* this.cpu.compute(this.o.loadNs ?? 100_000);
    // v6.2 same-name check
    const old = this.mods.get(name);
    if (old !== undefined) {
      if (old.state === 'unformed' || old.state === 'coming') {
        yield* this.wq.waitEvent(() => {
          const o = this.mods.get(name);
          return o === undefined || o.state === 'live' || o.state === 'going';
        });
      }
      return this.mods.get(name)?.state === 'live' ? -EEXIST : -EBUSY;
    }
    const rec: Rec = { name, state: 'unformed', refcnt: 0, deps: file.image.symbolDeps.filter((d) => this.mods.get(d)?.state === 'live'), sysfsDir: false };
    this.mods.set(name, rec);
    yield* this.cpu.compute(this.o.formNs ?? 50_000);
    for (const d of rec.deps) this.mods.get(d)!.refcnt++;
    rec.sysfsDir = true;
    if (this.o.dirBeforeInitstateNs) yield this.sim.delay(this.o.dirBeforeInitstateNs);
    rec.state = 'coming';
    const b = file.image.behaviour;
    let r: number;
    if (b.init) {
      const ctx: ModuleInitContext = { task, kernel: this, module: name, args };
      r = yield* b.init(ctx);
    } else {
      yield* this.cpu.compute(b.initCpuNs);
      if (b.initSleepNs > 0) yield this.sim.delay(b.initSleepNs);
      r = b.initResult;
    }
    if (r === 0) {
      for (const f of b.registersFs ?? []) this.fs.set(f, name);
      rec.state = 'live';
    } else {
      rec.state = 'going';
      for (const d of rec.deps) this.mods.get(d)!.refcnt--;
      this.mods.delete(name);
    }
    this.wq.wakeUpAll();
    return r;
  }

  *delete_module(_task: Task, name: string, _flags: number): Proc<number> {
    const m = this.mods.get(name);
    let r = 0;
    if (m === undefined) r = -ENOENT;
    else if (m.state !== 'live') r = -EBUSY;
    else if (m.refcnt > 0) r = -EWOULDBLOCK;
    else {
      yield* this.cpu.compute(10_000);
      for (const d of m.deps) this.mods.get(d)!.refcnt--;
      for (const [f, o] of this.fs) if (o === name) this.fs.delete(f);
      this.mods.delete(name);
      this.wq.wakeUpAll();
    }
    this.calls.push({ t: this.sim.now, how: 'delete', module: name, result: r });
    return r;
  }

  *request_module(_task: Task, name: string): Proc<number> {
    if (this.umh === null) return -ENOENT;
    const p = this.umh.exec(this.modprobePath, [this.modprobePath, '-q', '--', name], ['HOME=/']);
    if (typeof p === 'number') return p;
    const st = yield* p.join();
    return st ?? 0;
  }

  *get_fs_type(task: Task, name: string): Proc<FsTypeRef | null> {
    if (!this.fs.has(name)) {
      const r = yield* this.request_module(task, `fs-${name}`);
      if (r !== 0) return null;
    }
    const owner = this.fs.get(name);
    return owner === undefined ? null : { name, owner };
  }

  put_filesystem(): void {}
  register_filesystem(name: string, owner: string): number {
    this.fs.set(name, owner);
    return 0;
  }
  unregister_filesystem(name: string): number {
    this.fs.delete(name);
    return 0;
  }

  sysfsModule(name: string): SysfsModuleView {
    const m = this.mods.get(name);
    if (m === undefined || !m.sysfsDir) return { dir: false, initstate: null };
    if (m.state === 'unformed') return { dir: true, initstate: null };
    return { dir: true, initstate: m.state === 'going' ? 'going' : m.state };
  }
  moduleSections(): Map<string, string> | null {
    return null;
  }
  procModules(): string {
    return [...this.mods.values()].map((m) => `${m.name} 0 ${m.refcnt} - Live 0x0`).join('\n');
  }
  moduleState(name: string): State | null {
    return this.mods.get(name)?.state ?? null;
  }
  moduleRefcount(name: string): number {
    return this.mods.get(name)?.refcnt ?? 0;
  }
  dmesg(): string[] {
    return [];
  }

  /** test helper: make a module LIVE without loading it */
  forceLive(name: string, refcnt = 0): void {
    this.mods.set(name, { name, state: 'live', refcnt, deps: [], sysfsDir: true });
  }
  /** test helper: a forced COMING module turns LIVE and wakes the waiters */
  finishComing(name: string): void {
    const m = this.mods.get(name);
    if (m) m.state = 'live';
    this.wq.wakeUpAll();
  }
  /** test helper: a module stuck in COMING (or with only its sysfs directory) */
  forceComing(name: string, initstate = true): void {
    this.mods.set(name, { name, state: initstate ? 'coming' : 'unformed', refcnt: 0, deps: [], sysfsDir: true });
  }
}
