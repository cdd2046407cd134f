/**
 * DOC: test_kmod0 — the test_kmod driver's misc device and its sysfs knobs (spec §6).
 *
 * One device holds one test configuration (driver name, filesystem name, thread count, test
 * case, last result) and runs it when userspace writes trigger_config: one kernel thread
 * "test_kmod-<idx>" per configured thread, each calling request_module(test_driver) (test case
 * 1, TEST_KMOD_DRIVER) or get_fs_type(test_fs) and dropping the reference at once (test case 2,
 * TEST_KMOD_FS_TYPE). The writer sleeps until every thread is done, then tally_up_work stores
 * the last non-zero per-thread value, in thread order, as test_result (§6.4).
 *
 * Locks, as in the driver: trigger_mutex (one trigger or reset at a time) and config_mutex,
 * which a trigger holds for its whole run — so every knob read and every config write that gets
 * past parsing sleeps while a test runs; thread_mutex guards the done count.
 *
 * Knob semantics (§6.2), from the sysfs side:
 * * a write is cut to PAGE_SIZE (4096) bytes; a zero-byte write returns 0 without reaching the
 *   store handler; the handler sees the bytes with a NUL appended.
 * * config_test_driver / config_test_fs keep kstrndup(buf, count): everything up to the first
 *   NUL, a trailing newline included (why kmod.sh uses `echo -n`); the write returns count.
 * * config_num_threads: kstrtouint (junk or '-' → -EINVAL, > UINT_MAX → -ERANGE), then the
 *   per-thread array is re-allocated (vzalloc of N × 48 bytes); if that fails (N = 0 or too big)
 *   the old value is restored and the write returns -EINVAL. Read back with "%d".
 * * config_test_case: kstrtouint, then 1 or 2 else -EINVAL.
 * * test_result: kstrtoint (-ERANGE outside int), stored as is.
 * * reset: defaults back (test_module, xfs, 50 threads, case 1, result 0), test_is_oom cleared.
 *   From v6.16 (`startParams`) the defaults are the module parameters start_driver (else
 *   test_module) and start_test_fs (else no fs at all: `config` shows "fs:\tEMPTY"), and a
 *   TEST_KMOD_FS_TYPE trigger with no fs fails with -EINVAL ("No fs type specified, can't run
 *   the test").
 * * trigger_config: -ENOMEM at once while test_is_oom is set; runs the test; returns the byte
 *   count, or -ENOMEM if a kthread could not be created (test_is_oom is then set), -EINVAL for an
 *   invalid test case. The test's own result never fails the write.
 * * Opening a write-only knob for reading, or `config` for writing, fails with -EACCES even for
 *   root (kernfs has no handler); an unknown name is -ENOENT.
 *
 * `legacyShow` gives the 4.13-era formatting: "EMTPY" in `config`, and driver/fs reads that
 * include the terminating NUL.
 */
import { Completion, Mutex, type CpuPool, type Proc, type Process, type Sim } from '../sim/index.js';
import type { FsTypeRef, KernelApi, Task } from '../kernel/api.js';
import { EACCES, EINVAL, ENOENT, ENOMEM } from '../kernel/errno.js';
import { cstring, kstrtoint, kstrtouint } from './kstrto.js';

export const TEST_KMOD_DRIVER = 1;
export const TEST_KMOD_FS_TYPE = 2;
/** __TEST_KMOD_MAX: one past the last valid case */
export const TEST_KMOD_MAX = 3;

export const TEST_START_NUM_THREADS = 50;
export const TEST_START_DRIVER = 'test_module';
export const TEST_START_TEST_FS = 'xfs';

export const PAGE_SIZE = 4096;
/** sizeof(struct kmod_test_device_info) on 64-bit */
export const KMOD_TEST_DEVICE_INFO_SIZE = 48;

/** every attribute of test_kmod0, in the driver's order, with its mode */
export const TEST_KMOD_KNOBS = {
  trigger_config: 0o200,
  config: 0o444,
  reset: 0o200,
  config_test_driver: 0o644,
  config_test_fs: 0o644,
  config_num_threads: 0o644,
  config_test_case: 0o644,
  test_result: 0o644,
} as const;
export type TestKmodKnob = keyof typeof TEST_KMOD_KNOBS;

export function isKnob(name: string): name is TestKmodKnob {
  return Object.prototype.hasOwnProperty.call(TEST_KMOD_KNOBS, name);
}

export function test_case_str(tc: number): string {
  if (tc === TEST_KMOD_DRIVER) return 'TEST_KMOD_DRIVER';
  if (tc === TEST_KMOD_FS_TYPE) return 'TEST_KMOD_FS_TYPE';
  return 'invalid';
}

export interface TestKmodDeviceOptions {
  /** misc device name; default "test_kmod0" */
  name?: string;
  /** 4.13-era show formatting ("EMTPY", NUL included in driver/fs reads) */
  legacyShow?: boolean;
  /**
   * v6.16+ driver: the start defaults come from the start_driver / start_test_fs module
   * parameters (preset flag testKmodStartParams) instead of the built-in test_module / xfs
   */
  startParams?: boolean;
  /** largest vzalloc that succeeds, bytes (default 1 GiB): bounds config_num_threads */
  maxVzallocBytes?: number;
  /** kthread_run fails for thread index ≥ this (default 32768, threads-max of a 4 GiB guest) */
  maxKthreads?: number;
  /** time one kthread_run takes in the writer (default 20 µs) */
  kthreadCreateNs?: number;
  /**
   * The machine's CPUs. When given, kthread_run's cost is CPU work (kthreadd forking the thread
   * has to be scheduled like everything else), so on a busy machine the trigger's later threads
   * start late — on a 2-vCPU guest running 50 modprobes, the 51st thread starts seconds after
   * the first. Without it the cost is a plain delay.
   */
  cpu?: CpuPool;
  /** syscall + sysfs overhead of one knob read or write (default 5 µs) */
  sysfsAccessNs?: number;
}

/** the v6.16+ module parameters that give the start defaults (null: not given) */
export interface TestKmodStartParams {
  start_driver: string | null;
  start_test_fs: string | null;
}

/** struct kmod_test_device_info */
interface ThreadInfo {
  ret_sync: number;
  fs_sync: FsTypeRef | null;
  task_sync: Process | null;
  need_mod_put: boolean;
}

/** the driver's log keeps the newest lines only (a full kmod.sh run logs ~20,000) */
const LOG_LIMIT = 8192;

/** one line of the driver's kernel log */
export interface TestKmodLogLine {
  t: number;
  msg: string;
}

/** bytes of a JS string, kept one char per byte (latin1) inside the device */
function toBytes(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}
function fromBytes(b: string): string {
  // every thread of a trigger converts the same name: keep the last answer
  if (b !== lastBytes) {
    lastText = Buffer.from(b, 'latin1').toString('utf8');
    lastBytes = b;
  }
  return lastText;
}
let lastBytes: string | null = null;
let lastText = '';

export class TestKmodDevice {
  readonly name: string;
  // struct test_config
  test_driver: string | null = null;
  test_fs: string | null = null;
  num_threads = 0;
  test_case = 0;
  test_result = 0;
  // device state
  test_is_oom = false;
  done = 0;
  readonly config_mutex: Mutex;
  readonly trigger_mutex: Mutex;
  readonly thread_mutex: Mutex;
  readonly kthreads_done: Completion;
  private info: ThreadInfo[] | null = null;
  readonly log: TestKmodLogLine[] = [];
  /** kernel threads started by triggers, all time (for tests and traces) */
  kthreadsStarted = 0;

  private readonly legacyShow: boolean;
  private readonly startParams: boolean;
  private readonly start: TestKmodStartParams;
  private readonly maxVzallocBytes: number;
  private readonly maxKthreads: number;
  private readonly kthreadCreateNs: number;
  private readonly cpu: CpuPool | null;
  private readonly sysfsAccessNs: number;

  constructor(
    readonly sim: Sim,
    readonly kernel: KernelApi,
    opts: TestKmodDeviceOptions = {},
    start: TestKmodStartParams = { start_driver: null, start_test_fs: null },
  ) {
    this.name = opts.name ?? 'test_kmod0';
    this.legacyShow = opts.legacyShow ?? false;
    this.startParams = opts.startParams ?? false;
    this.start = start;
    this.maxVzallocBytes = opts.maxVzallocBytes ?? 1 << 30;
    this.maxKthreads = opts.maxKthreads ?? 32768;
    this.kthreadCreateNs = opts.kthreadCreateNs ?? 20_000;
    this.cpu = opts.cpu ?? null;
    this.sysfsAccessNs = opts.sysfsAccessNs ?? 5_000;
    this.config_mutex = new Mutex(sim, `${this.name}.config_mutex`);
    this.trigger_mutex = new Mutex(sim, `${this.name}.trigger_mutex`);
    this.thread_mutex = new Mutex(sim, `${this.name}.thread_mutex`);
    this.kthreads_done = new Completion(sim, `${this.name}.kthreads_done`);
    // kmod_config_init at allocation (no other process can see the device yet)
    const ret = this.__kmod_config_init();
    if (ret < 0) throw new Error('test_kmod: cannot alloc kmod_config_init()');
    this.dev_info('interface ready');
  }

  private dev_info(msg: string): void {
    if (this.log.length >= LOG_LIMIT) this.log.splice(0, LOG_LIMIT / 2);
    this.log.push({ t: this.sim.now, msg: `misc ${this.name}: ${msg}` });
  }

  // ---------------------------------------------------------------- userspace entry points

  /**
   * read(2) of test_kmod0/<knob> by a process: the whole content, or -errno (ENOENT unknown
   * knob, EACCES write-only knob). Sleeps on config_mutex while a trigger runs.
   */
  *read(knob: string): Proc<string | number> {
    if (!isKnob(knob)) return -ENOENT;
    if ((TEST_KMOD_KNOBS[knob] & 0o444) === 0) return -EACCES;
    if (this.sysfsAccessNs > 0) yield this.sim.delay(this.sysfsAccessNs);
    yield* this.config_mutex.lock();
    let out: string;
    try {
      out = this.show(knob);
    } finally {
      this.config_mutex.unlock();
    }
    // sysfs_kf_seq_show clamps a show to PAGE_SIZE - 1 bytes
    if (out.length > PAGE_SIZE - 1) out = out.slice(0, PAGE_SIZE - 1);
    return fromBytes(out);
  }

  /** write(2) of `data` to test_kmod0/<knob>: the count the store returned, or -errno */
  *write(knob: string, data: string): Proc<number> {
    if (!isKnob(knob)) return -ENOENT;
    if ((TEST_KMOD_KNOBS[knob] & 0o222) === 0) return -EACCES;
    let buf = toBytes(data);
    if (buf.length > PAGE_SIZE) buf = buf.slice(0, PAGE_SIZE);
    const count = buf.length;
    if (this.sysfsAccessNs > 0) yield this.sim.delay(this.sysfsAccessNs);
    if (count === 0) return 0; // sysfs_kf_write: nothing to store
    switch (knob) {
      case 'trigger_config':
        return yield* this.trigger_config_store(count);
      case 'reset':
        return yield* this.reset_store(count);
      case 'config_test_driver':
      case 'config_test_fs':
        return yield* this.config_str_store(knob, buf, count);
      case 'config_num_threads':
        return yield* this.config_num_threads_store(buf, count);
      case 'config_test_case':
        return yield* this.config_test_case_store(buf, count);
      case 'test_result':
        return yield* this.test_result_store(buf, count);
      default:
        return -EACCES;
    }
  }

  // ---------------------------------------------------------------- show

  /** the text of a readable knob (caller holds config_mutex), as bytes */
  private show(knob: TestKmodKnob): string {
    switch (knob) {
      case 'config':
        return this.config_show();
      case 'config_test_driver':
        return this.show_str(this.test_driver);
      case 'config_test_fs':
        return this.show_str(this.test_fs);
      case 'config_num_threads':
        return `${this.num_threads | 0}\n`; // "%d" of an unsigned int
      case 'config_test_case':
        return `${this.test_case >>> 0}\n`;
      case 'test_result':
        return `${this.test_result | 0}\n`;
      default:
        return '';
    }
  }

  private show_str(s: string | null): string {
    const text = `${s ?? '(null)'}\n`;
    return this.legacyShow ? `${text}\0` : text;
  }

  /** the `config` knob: the test configuration summary */
  config_show(): string {
    const empty = this.legacyShow ? 'EMTPY' : 'EMPTY';
    return (
      `Custom trigger configuration for: ${this.name}\n` +
      `Number of threads:\t${this.num_threads >>> 0}\n` +
      `Test_case:\t${test_case_str(this.test_case)} (${this.test_case >>> 0})\n` +
      `driver:\t${this.test_driver ?? empty}\n` +
      `fs:\t${this.test_fs ?? empty}\n`
    );
  }

  // ---------------------------------------------------------------- stores

  private *config_str_store(knob: 'config_test_driver' | 'config_test_fs', buf: string, count: number): Proc<number> {
    yield* this.config_mutex.lock();
    // kfree the old string, then kstrndup(buf, count): up to the first NUL, newline kept
    const s = cstring(buf);
    if (knob === 'config_test_driver') this.test_driver = s;
    else this.test_fs = s;
    this.config_mutex.unlock();
    return count;
  }

  private *config_num_threads_store(buf: string, count: number): Proc<number> {
    const r = kstrtouint(buf);
    if (!r.ok) return r.errno;
    yield* this.config_mutex.lock();
    const old = this.num_threads;
    this.num_threads = Number(r.value);
    if (this.kmod_config_sync_info() !== 0) {
      this.num_threads = old;
      this.kmod_config_sync_info();
      this.config_mutex.unlock();
      return -EINVAL;
    }
    this.config_mutex.unlock();
    return count;
  }

  private *config_test_case_store(buf: string, count: number): Proc<number> {
    const r = kstrtouint(buf);
    if (!r.ok) return r.errno;
    const v = Number(r.value);
    if (v < TEST_KMOD_DRIVER || v > TEST_KMOD_MAX - 1) return -EINVAL;
    yield* this.config_mutex.lock();
    this.test_case = v;
    this.config_mutex.unlock();
    return count;
  }

  private *test_result_store(buf: string, count: number): Proc<number> {
    const r = kstrtoint(buf);
    if (!r.ok) return r.errno;
    yield* this.config_mutex.lock();
    this.test_result = Number(r.value);
    this.config_mutex.unlock();
    return count;
  }

  private *reset_store(count: number): Proc<number> {
    yield* this.trigger_mutex.lock();
    yield* this.config_mutex.lock();
    let ret: number;
    if (this.__kmod_config_init() < 0) {
      ret = -ENOMEM;
      this.dev_info(`could not alloc settings for config trigger: ${ret}`);
    } else {
      this.dev_info('reset');
      ret = count;
    }
    this.config_mutex.unlock();
    this.trigger_mutex.unlock();
    return ret;
  }

  private *trigger_config_store(count: number): Proc<number> {
    if (this.test_is_oom) return -ENOMEM;
    const ret = yield* this.trigger_config_run();
    if (ret < 0) return ret;
    return count;
  }

  // ---------------------------------------------------------------- config helpers

  /** vzalloc(num_threads × 48): fails for 0 bytes or more than the allocator gives */
  private kmod_config_sync_info(): number {
    this.info = null;
    const bytes = this.num_threads * KMOD_TEST_DEVICE_INFO_SIZE;
    if (bytes === 0 || bytes > this.maxVzallocBytes) return -ENOMEM;
    this.info = [];
    return 0;
  }

  private __kmod_config_init(): number {
    if (this.startParams) {
      // v6.16: the parameters, else test_module and no fs
      this.test_driver = toBytes(this.start.start_driver ?? TEST_START_DRIVER);
      this.test_fs = this.start.start_test_fs === null ? null : toBytes(this.start.start_test_fs);
    } else {
      this.test_driver = TEST_START_DRIVER;
      this.test_fs = TEST_START_TEST_FS;
    }
    this.num_threads = TEST_START_NUM_THREADS;
    this.test_result = 0;
    this.test_case = TEST_KMOD_DRIVER;
    if (this.kmod_config_sync_info() !== 0) {
      this.test_is_oom = true;
      this.test_driver = null;
      this.test_fs = null;
      return -ENOMEM;
    }
    this.test_is_oom = false;
    return 0;
  }

  // ---------------------------------------------------------------- running a test

  /**
   * trigger_config_run_type: what force_init_test does at module init — set the case and its
   * name (up to v6.15: "tun", "btrfs"; from v6.16 `testStr` is null and the configured names are
   * kept, an fs test without an fs being skipped with 0), clear test_is_oom, run.
   */
  *trigger_config_run_type(testCase: number, testStr: string | null): Proc<number> {
    yield* this.config_mutex.lock();
    if (testCase === TEST_KMOD_DRIVER) {
      if (testStr !== null) this.test_driver = testStr;
    } else if (testCase === TEST_KMOD_FS_TYPE) {
      if (testStr !== null) this.test_fs = testStr;
      else if (this.test_fs === null) {
        this.config_mutex.unlock();
        return 0;
      }
    } else {
      this.config_mutex.unlock();
      return -EINVAL;
    }
    this.test_case = testCase;
    this.config_mutex.unlock();
    this.test_is_oom = false;
    return yield* this.trigger_config_run();
  }

  /** trigger_config_run: 0 once the test ran (whatever its result), or the setup error */
  *trigger_config_run(): Proc<number> {
    yield* this.trigger_mutex.lock();
    yield* this.config_mutex.lock();
    let ret = yield* this.__trigger_config_run();
    if (ret >= 0) {
      this.dev_info(`General test result: ${this.test_result}`);
      ret = 0;
    }
    this.config_mutex.unlock();
    this.trigger_mutex.unlock();
    return ret;
  }

  private *__trigger_config_run(): Proc<number> {
    this.done = 0;
    const tc = this.test_case;
    if (tc !== TEST_KMOD_DRIVER && tc !== TEST_KMOD_FS_TYPE) {
      this.dev_info(`Invalid test case requested: ${tc >>> 0}`);
      return -EINVAL;
    }
    if (tc === TEST_KMOD_FS_TYPE && this.test_fs === null && this.startParams) {
      this.dev_info("No fs type specified, can't run the test");
      return -EINVAL;
    }
    this.dev_info(`Test case: ${test_case_str(tc)} (${tc})`);
    if (tc === TEST_KMOD_DRIVER) this.dev_info(`Test driver to load: ${fromBytes(this.test_driver ?? '(null)')}`);
    else this.dev_info(`Test filesystem to load: ${fromBytes(this.test_fs ?? '(null)')}`);
    this.dev_info(`Number of threads to run: ${this.num_threads >>> 0}`);
    this.dev_info(`Thread IDs will range from 0 - ${(this.num_threads - 1) >>> 0}`);
    return yield* this.try_requests();
  }

  private *try_requests(): Proc<number> {
    const n = this.num_threads;
    const info: ThreadInfo[] = [];
    this.info = info;
    let anyError = false;
    for (let idx = 0; idx < n; idx++) {
      if (this.test_is_oom) {
        anyError = true;
        break;
      }
      if (!(yield* this.try_one_request(info, idx))) {
        anyError = true;
        break;
      }
    }
    if (!anyError) {
      this.test_is_oom = false;
      this.dev_info('No errors were found while initializing threads');
      yield* this.kthreads_done.wait();
      this.tally_up_work(info);
      return 0;
    }
    this.test_is_oom = true;
    this.dev_info('At least one thread failed to start, stop all work');
    yield* this.stop_tests(info);
    return -ENOMEM;
  }

  private *try_one_request(info: ThreadInfo[], idx: number): Proc<boolean> {
    yield* this.thread_mutex.lock();
    const slot: ThreadInfo = { ret_sync: 0, fs_sync: null, task_sync: null, need_mod_put: false };
    info[idx] = slot;
    if (this.cpu !== null) yield* this.cpu.compute(this.kthreadCreateNs);
    else if (this.kthreadCreateNs > 0) yield this.sim.delay(this.kthreadCreateNs);
    if (idx >= this.maxKthreads) {
      this.test_is_oom = true;
      this.dev_info(`Setting up thread ${idx} failed`);
      slot.ret_sync = -ENOMEM;
      this.thread_mutex.unlock();
      return false;
    }
    const comm = `test_kmod-${idx}`;
    const task: Task = { proc: null as unknown as Process, comm, capSysModule: true, capSyslog: true };
    const p = this.sim.spawn(comm, this.run_request(task, slot, idx));
    task.proc = p;
    slot.task_sync = p;
    this.kthreadsStarted++;
    this.thread_mutex.unlock();
    return true;
  }

  /** the body of each kernel thread */
  private *run_request(task: Task, slot: ThreadInfo, idx: number): Proc<number> {
    if (this.test_case === TEST_KMOD_DRIVER) {
      slot.ret_sync = yield* this.kernel.request_module(task, fromBytes(this.test_driver ?? '(null)'), true);
    } else {
      slot.fs_sync = yield* this.kernel.get_fs_type(task, fromBytes(this.test_fs ?? '(null)'));
      slot.need_mod_put = true;
    }
    this.test_kmod_put_module(slot);
    yield* this.thread_mutex.lock();
    slot.task_sync = null;
    this.done++;
    if (this.done === this.num_threads) {
      this.dev_info(`Done: ${this.done} threads have all run now`);
      this.dev_info(`Last thread to run: ${idx}`);
      this.kthreads_done.complete();
    }
    this.thread_mutex.unlock();
    return 0;
  }

  /** drop the filesystem's module reference at once, so the fs module can be removed again */
  private test_kmod_put_module(slot: ThreadInfo): void {
    if (!slot.need_mod_put) return;
    if (this.test_case === TEST_KMOD_FS_TYPE && slot.fs_sync !== null) this.kernel.put_filesystem(slot.fs_sync);
    slot.need_mod_put = false;
  }

  /** a thread could not be created: kthread_stop (wait for) every thread already running */
  private *stop_tests(info: ThreadInfo[]): Proc<void> {
    this.dev_info('Ending request_module() tests');
    yield* this.thread_mutex.lock();
    const running = info.filter((s) => s !== undefined && s.task_sync !== null).map((s) => s.task_sync!);
    this.thread_mutex.unlock();
    for (const p of running) yield* p.join();
  }

  /** tally_up_work: the last non-zero per-thread value in index order (§6.4) */
  private tally_up_work(info: ThreadInfo[]): void {
    let err = 0;
    this.dev_info('Results:');
    for (let idx = 0; idx < info.length; idx++) {
      const s = info[idx]!;
      let v = 0;
      if (this.test_case === TEST_KMOD_DRIVER) {
        if (s.ret_sync !== 0) v = s.ret_sync;
        this.dev_info(`Sync thread ${idx} return status: ${s.ret_sync}`);
      } else {
        if (s.fs_sync === null) v = -EINVAL;
        this.dev_info(`Sync thread ${idx} fs: ${s.fs_sync !== null ? fromBytes(this.test_fs ?? '') : 'NULL'}`);
      }
      if (v !== 0) err = v;
    }
    this.test_result = err;
  }

  /** per-thread results of the last trigger, for tests and traces */
  threadResults(): { ret_sync: number; fs: boolean }[] {
    return (this.info ?? []).map((s) => ({ ret_sync: s.ret_sync, fs: s.fs_sync !== null }));
  }
}
