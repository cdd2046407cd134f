/**
 * DOC: a minimal modprobe for the usermode helper, so the kernel's own tests need no userspace.
 *
 * The real model of modprobe and libkmod is src/userspace/ (modprobe.ts, libkmod.ts); the kernel
 * tests use this one so that a failure in them is about the kernel alone.
 *
 * Resolves the requested name (a module name, '-' → '_', or an alias from a small table) to one
 * module file, loads its symbol dependencies first, skips modules whose initstate is "live"
 * (libkmod's shortcut), and calls finit_module. -EEXIST counts as success; any other error makes
 * it exit 1, which the kernel sees as wait status 256. Unknown names also exit 1. Its process
 * takes `execNs` (fork + exec + index loading) before doing anything.
 */
import type { Proc, Process, Sim } from '../../../src/sim/index.js';
import type { KernelApi, KFile, Task, UsermodeHelperHost } from '../../../src/kernel/api.js';
import { EEXIST, ENOENT } from '../../../src/kernel/errno.js';
import { makeTask } from './fixtures.js';

export interface MinimalModprobeOptions {
  /** the only path that execs (others: -ENOENT). Default "/sbin/modprobe" */
  path?: string;
  /** fork + exec + libkmod start-up, ns (default 2 ms) */
  execNs?: number;
  /** alias → module name (e.g. "fs-xfs" → "xfs") */
  aliases?: Record<string, string>;
}

export class MinimalModprobe implements UsermodeHelperHost {
  readonly files = new Map<string, KFile>();
  readonly aliases = new Map<string, string>();
  readonly path: string;
  readonly execNs: number;
  /** exit codes of finished runs, in order */
  readonly exits: { name: string; code: number }[] = [];
  private seq = 0;

  constructor(
    private readonly sim: Sim,
    private readonly kernel: KernelApi,
    files: KFile[],
    opts: MinimalModprobeOptions = {},
  ) {
    for (const f of files) this.files.set(f.image.name, f);
    for (const [a, m] of Object.entries(opts.aliases ?? {})) this.aliases.set(a, m);
    this.path = opts.path ?? '/sbin/modprobe';
    this.execNs = opts.execNs ?? 2_000_000;
  }

  resolve(name: string): KFile | undefined {
    const alias = this.aliases.get(name);
    return this.files.get(alias ?? name.replace(/-/g, '_'));
  }

  exec(path: string, argv: string[]): number | Process<number> {
    if (path !== this.path) return -ENOENT;
    const name = argv[argv.length - 1] ?? '';
    return this.sim.spawn(`modprobe-${++this.seq}`, this.main(name));
  }

  private *main(name: string): Proc<number> {
    const task = makeTask(this.sim.current!, 'modprobe');
    const code = yield* this.run(task, name);
    this.exits.push({ name, code });
    return code << 8;
  }

  /** modprobe NAME as a process body: returns the exit code */
  *run(task: Task, name: string): Proc<number> {
    yield this.sim.delay(this.execNs);
    const f = this.resolve(name);
    if (f === undefined) return 1;
    return (yield* this.insert(task, f, new Set())) ? 0 : 1;
  }

  private *insert(task: Task, f: KFile, seen: Set<string>): Proc<boolean> {
    if (seen.has(f.image.name)) return true;
    seen.add(f.image.name);
    for (const d of f.image.symbolDeps) {
      const df = this.files.get(d);
      if (df === undefined) return false;
      if (!(yield* this.insert(task, df, seen))) return false;
    }
    if (this.kernel.sysfsModule(f.image.name).initstate === 'live') return true;
    const ret = yield* this.kernel.finit_module(task, f, '', 0);
    return ret === 0 || ret === -EEXIST;
  }
}
