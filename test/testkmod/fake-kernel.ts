/**
 * DOC: a fake KernelApi for the test_kmod tests: request_module / get_fs_type answer from
 * tables after a fixed delay, and every call is recorded with the calling task's comm.
 */
import type { FsTypeRef, KernelApi, Task } from '../../src/kernel/api.js';
import type { Proc, Sim } from '../../src/sim/index.js';

export interface FakeKernelOptions {
  /** request_module result for a name (default 0) */
  request?: (name: string, comm: string) => number;
  /** does get_fs_type find the name (default true for "xfs") */
  fs?: (name: string, comm: string) => boolean;
  /** how long each call takes (default 1 ms) */
  delayNs?: number;
}

export class FakeKernel implements KernelApi {
  readonly release = 'fake';
  modprobePath = '/sbin/modprobe';
  calls: { kind: 'request' | 'fs'; name: string; comm: string; t: number }[] = [];
  puts = 0;
  state: 'live' | null = 'live';

  constructor(
    readonly sim: Sim,
    readonly opts: FakeKernelOptions = {},
  ) {}

  // eslint-disable-next-line require-yield
  *finit_module(): Proc<number> {
    return -38;
  }
  // eslint-disable-next-line require-yield
  *init_module(): Proc<number> {
    return -38;
  }
  // eslint-disable-next-line require-yield
  *delete_module(): Proc<number> {
    return -38;
  }
  *request_module(task: Task, name: string): Proc<number> {
    this.calls.push({ kind: 'request', name, comm: task.comm, t: this.sim.now });
    yield this.sim.delay(this.opts.delayNs ?? 1_000_000);
    return this.opts.request?.(name, task.comm) ?? 0;
  }
  *get_fs_type(task: Task, name: string): Proc<FsTypeRef | null> {
    this.calls.push({ kind: 'fs', name, comm: task.comm, t: this.sim.now });
    yield this.sim.delay(this.opts.delayNs ?? 1_000_000);
    const found = this.opts.fs?.(name, task.comm) ?? name === 'xfs';
    return found ? { name, owner: name } : null;
  }
  put_filesystem(): void {
    this.puts++;
  }
  register_filesystem(): number {
    return 0;
  }
  unregister_filesystem(): number {
    return 0;
  }
  sysfsModule() {
    return { dir: false, initstate: null };
  }
  procModules(): string {
    return '';
  }
  moduleSections(): Map<string, string> | null {
    return null;
  }
  moduleState(name: string) {
    return name === 'test_kmod' ? this.state : null;
  }
  moduleRefcount(): number {
    return 0;
  }
  dmesg(): string[] {
    return [];
  }
}
