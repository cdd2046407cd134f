/**
 * DOC: a fake Target for the runner tests: test_kmod0 is the real driver model on a fake kernel
 * whose request_module answers like a v5.7+ kernel with a fast modprobe (empty path → -ENOENT,
 * a path other than /sbin/modprobe → -ENOENT, "" or an unknown name → 256), get_fs_type finds
 * "xfs". Preconditions, modprobe results and files are settable; every call is recorded.
 */
import { Sim, type Proc } from '../../src/sim/index.js';
import { TestKmodDevice, type TestKmodDeviceOptions } from '../../src/testkmod/index.js';
import { KnobError, type Preconditions, type ProcessResult, type Target } from '../../src/selftest/target.js';
import { formatDate } from '../../src/targets/sim.js';
import { FakeKernel } from '../testkmod/fake-kernel.js';

export interface FakeTargetOptions {
  pre?: Partial<Preconditions>;
  /** the kernel returns 0 for an empty modprobe path (before v5.7) */
  emptyPathZero?: boolean;
  /** modprobe results by joined args */
  modprobe?: Record<string, ProcessResult>;
  files?: Record<string, string>;
  /** the unprivileged view of files */
  unprivFiles?: Record<string, string>;
  /** loadTestKmod makes the device appear */
  loadable?: boolean;
  device?: TestKmodDeviceOptions;
}

export class FakeTarget implements Target {
  readonly name = 'fake';
  readonly kernel = 'fake';
  readonly sim = new Sim({ seed: 1 });
  readonly k: FakeKernel;
  dev: TestKmodDevice | null = null;
  calls: string[] = [];
  closed = false;

  constructor(readonly o: FakeTargetOptions = {}) {
    this.k = new FakeKernel(this.sim, {
      request: (name) => {
        const p = this.k.modprobePath;
        if (p === '') return o.emptyPathZero ? 0 : -2;
        if (p !== '/sbin/modprobe') return -2;
        return name === 'test_module' ? 0 : 256;
      },
      fs: (name) => name === 'xfs',
    });
    if ((o.pre?.testKmodPresent ?? true) === true) this.dev = new TestKmodDevice(this.sim, this.k, o.device);
  }

  private run<R>(g: Proc<R>): R {
    const p = this.sim.spawn('sh', g);
    this.sim.runUntil(() => p.done);
    return p.result as R;
  }

  async preconditions(): Promise<Preconditions> {
    return { root: true, modprobe: true, kmod: true, kmodVersion: 30, ...this.o.pre, testKmodPresent: this.dev !== null };
  }
  async loadTestKmod(): Promise<ProcessResult> {
    this.calls.push('modprobe test_kmod');
    if (this.o.loadable) {
      this.dev = new TestKmodDevice(this.sim, this.k);
      return { exitCode: 0, stdout: '', stderr: '' };
    }
    return { exitCode: 1, stdout: '', stderr: 'modprobe: FATAL: Module test_kmod not found in directory /lib/modules/fake\n' };
  }
  async readKnob(knob: string): Promise<string> {
    this.calls.push(`read ${knob}`);
    if (this.dev === null) throw new KnobError(knob, -2);
    const r = this.run(this.dev.read(knob));
    if (typeof r === 'number') throw new KnobError(knob, r);
    return r;
  }
  async writeKnob(knob: string, data: string): Promise<number> {
    this.calls.push(`write ${knob} ${JSON.stringify(data)}`);
    if (this.dev === null) return -2;
    return this.run(this.dev.write(knob, data));
  }
  async modprobe(args: string[]): Promise<ProcessResult> {
    this.calls.push(`modprobe ${args.join(' ')}`);
    return this.o.modprobe?.[args.join(' ')] ?? { exitCode: 0, stdout: '', stderr: '' };
  }
  async readModprobePath(): Promise<string> {
    return this.k.modprobePath;
  }
  async writeModprobePath(path: string): Promise<void> {
    this.calls.push(`modprobe_path ${JSON.stringify(path)}`);
    this.k.modprobePath = path;
  }
  async readFile(path: string, opts: { dropCapSyslog?: boolean } = {}): Promise<string> {
    const f = (opts.dropCapSyslog ? this.o.unprivFiles : this.o.files)?.[path];
    if (f === undefined) throw new Error('No such file or directory');
    return f;
  }
  async listDir(path: string): Promise<string[]> {
    const prefix = path.endsWith('/') ? path : `${path}/`;
    const names = Object.keys(this.o.files ?? {}).filter((f) => f.startsWith(prefix) && !f.slice(prefix.length).includes('/'));
    return names.map((f) => f.slice(prefix.length));
  }
  async date(): Promise<string> {
    return formatDate(this.sim.now);
  }
  async kernelLog(): Promise<string> {
    return '';
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** a reporter that keeps lines as "out: …" / "err: …" */
export function capture() {
  const lines: string[] = [];
  return { lines, reporter: { line: (s: 'stdout' | 'stderr', t: string) => lines.push(`${s === 'stdout' ? 'out' : 'err'}: ${t}`) } };
}
