/**
 * DOC: a session with the guest agent over any byte stream (QEMU's serial socket, or a fake
 * guest in the tests).
 *
 * Requests go out one frame each with a fresh id; a response is matched by id, so a late answer
 * to a request that already timed out is dropped instead of being taken for the next one. The
 * console stream (the kernel's ttyS0) is kept whole as the kernel log and watched for a panic.
 * Whatever goes wrong ends the session with a GuestSessionError carrying the classified outcome
 * (outcome.ts), and every later request fails with the same error: after a timeout or a panic
 * the guest's state is unknown, so nothing else is trusted. `interrupt(SIG)` records that kmodlab
 * was told to stop: the session goes on (the owner still reads dmesg and powers the guest off),
 * and however it then ends, it ended as "interrupted" — unless the console shows a panic.
 */
import type { Duplex, Readable } from 'node:stream';
import { encodeFrame, FrameDecoder } from './protocol.js';
import { classifySession, panicLine, type SessionOutcome } from './outcome.js';

export class GuestSessionError extends Error {
  constructor(readonly outcome: SessionOutcome) {
    super(`guest ${outcome.state}: ${outcome.detail}`);
    this.name = 'GuestSessionError';
  }
}

export interface ExecResult {
  /** "exit" with code, "signal" with the signal number in code, or "timeout" (killed) */
  status: 'exit' | 'signal' | 'timeout';
  code: number;
  stdout: string;
  stderr: string;
}

export interface GuestSessionOptions {
  /** default deadline of one request (ms) */
  requestTimeoutMs?: number;
  /** how long to wait for the agent's hello (ms) */
  bootTimeoutMs?: number;
  /** deadline of the whole session from its start (ms); 0 = none */
  sessionTimeoutMs?: number;
  /** stop the VM (called once the session has failed) */
  kill?: () => void;
  /** how long a panic is given to print its trace before the session ends (ms) */
  panicGraceMs?: number;
}

interface Pending {
  resolve: (fields: Buffer[]) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class GuestSession {
  private readonly decoder = new FrameDecoder();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private consoleChunks: Buffer[] = [];
  private noiseBytes = 0;
  private booted = false;
  private deadlineHit = false;
  private died = false;
  private poweringOff = false;
  private interruptedBy: NodeJS.Signals | null = null;
  private vmSignal: NodeJS.Signals | null = null;
  private failure: GuestSessionError | null = null;
  private helloWaiters: { resolve: (r: string) => void; reject: (e: Error) => void }[] = [];
  private sessionTimer: NodeJS.Timeout | null = null;
  private bootTimer: NodeJS.Timeout | null = null;
  private panicTimer: NodeJS.Timeout | null = null;
  private consoleTail = '';
  /** uname -r of the guest (from the hello) */
  release = '';
  readonly startedAt = Date.now();
  bootMs = -1;

  constructor(
    private readonly channel: Duplex,
    consoleStream: Readable | null,
    private readonly opts: GuestSessionOptions = {},
  ) {
    channel.on('data', (b: Buffer) => this.onData(b));
    channel.on('close', () => this.onChannelGone());
    channel.on('end', () => this.onChannelGone());
    channel.on('error', () => this.onChannelGone());
    consoleStream?.on('data', (b: Buffer) => this.onConsole(b));
    this.bootTimer = setTimeout(() => {
      if (!this.booted) {
        this.deadlineHit = true;
        this.fail();
      }
    }, opts.bootTimeoutMs ?? 120_000);
    if (opts.sessionTimeoutMs) {
      this.sessionTimer = setTimeout(() => {
        this.deadlineHit = true;
        this.fail();
      }, opts.sessionTimeoutMs);
    }
  }

  /** Resolves with the guest's release once the agent said hello. */
  ready(): Promise<string> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.booted) return Promise.resolve(this.release);
    return new Promise((resolve, reject) => this.helloWaiters.push({ resolve, reject }));
  }

  /** One request; resolves with the response fields. */
  request(fields: (string | Buffer)[], timeoutMs?: number): Promise<Buffer[]> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.deadlineHit = true;
        this.fail();
        reject(this.failure!);
      }, timeoutMs ?? this.opts.requestTimeoutMs ?? 60_000);
      this.pending.set(id, { resolve, reject, timer });
      this.channel.write(encodeFrame('Q', id, fields));
    });
  }

  async ping(timeoutMs = 10_000): Promise<void> {
    const r = await this.request(['ping'], timeoutMs);
    if (r[0]?.toString() !== 'pong') throw new Error(`ping: unexpected answer ${r[0]?.toString()}`);
  }

  /** Read a whole file as root; errno 0 or -errno (e.g. -2 for ENOENT). */
  async readFile(path: string, timeoutMs?: number): Promise<{ errno: number; data: string }> {
    const r = await this.request(['read', path], timeoutMs);
    return { errno: Number(r[0]?.toString() ?? 'NaN'), data: r[1]?.toString('latin1') ?? '' };
  }

  /** One write(2) of data to path: the byte count, or -errno as the kernel returned it. */
  async writeFile(path: string, data: string | Buffer, timeoutMs?: number): Promise<number> {
    const r = await this.request(['write', path, data], timeoutMs);
    const v = Number(r[0]?.toString() ?? 'NaN');
    if (!Number.isInteger(v)) throw new Error(`write ${path}: malformed answer`);
    return v;
  }

  /** Run argv in the guest; the guest kills it after timeoutMs (the host waits a little longer). */
  async exec(argv: string[], timeoutMs = 60_000): Promise<ExecResult> {
    const r = await this.request(['exec', String(timeoutMs), ...argv], timeoutMs + 15_000);
    const st = r[0]?.toString() ?? '';
    const m = /^(exit|signal) (-?\d+)$/.exec(st);
    return {
      status: m ? (m[1] as 'exit' | 'signal') : 'timeout',
      code: m ? Number(m[2]) : -1,
      stdout: r[1]?.toString('latin1') ?? '',
      stderr: r[2]?.toString('latin1') ?? '',
    };
  }

  /** Ask the guest to power off; the session then ends as "ran". */
  async poweroff(timeoutMs = 20_000): Promise<void> {
    this.poweringOff = true;
    try {
      await this.request(['poweroff'], timeoutMs);
    } catch (e) {
      if (!(e instanceof GuestSessionError) || e.outcome.state !== 'ran') throw e;
    }
  }

  /** Everything the kernel console printed so far. */
  consoleLog(): string {
    return Buffer.concat(this.consoleChunks).toString('latin1');
  }

  /** Bytes on the agent channel that were not part of a valid frame. */
  get noise(): number {
    return this.noiseBytes;
  }

  get rejectedFrames(): number {
    return this.decoder.rejected;
  }

  /** The outcome so far (final once the session ended). */
  outcome(): SessionOutcome {
    // a stop we were told to make: whatever the session's end looked like (powered off, killed
    // after the grace period), that is how it ended — a panic on the console still says more
    if (this.failure && this.interruptedBy === null) return this.failure.outcome;
    return classifySession(this.facts());
  }

  private facts() {
    return {
      console: this.consoleLog(),
      booted: this.booted,
      deadlineHit: this.deadlineHit,
      diedUnexpectedly: this.died,
      ...(this.interruptedBy ? { interrupted: this.interruptedBy } : {}),
      vmSignal: this.vmSignal,
    };
  }

  /** kmodlab received SIG: the session is ending on purpose (see the DOC above) */
  interrupt(sig: NodeJS.Signals): void {
    if (this.interruptedBy === null) this.interruptedBy = sig;
  }

  /** Tell the session the VM process is gone (the boot layer calls this), and by which signal. */
  vmExited(signal: NodeJS.Signals | null = null): void {
    this.vmSignal = signal;
    this.onChannelGone();
  }

  /** Stop timers; the owner closes the streams. */
  dispose(): void {
    for (const t of [this.sessionTimer, this.bootTimer, this.panicTimer]) if (t) clearTimeout(t);
    for (const p of this.pending.values()) clearTimeout(p.timer);
  }

  private onData(b: Buffer): void {
    const { frames, noise } = this.decoder.push(b);
    for (const n of noise) this.noiseBytes += n.length;
    for (const f of frames) {
      if (f.kind === 'H') {
        this.booted = true;
        this.bootMs = Date.now() - this.startedAt;
        this.release = f.fields[0]?.toString() ?? '';
        if (this.bootTimer) clearTimeout(this.bootTimer);
        for (const w of this.helloWaiters.splice(0)) w.resolve(this.release);
      } else if (f.kind === 'R') {
        const p = this.pending.get(f.id);
        if (!p) continue; // a late answer to a request that timed out
        this.pending.delete(f.id);
        clearTimeout(p.timer);
        p.resolve(f.fields);
      }
    }
  }

  private onConsole(b: Buffer): void {
    this.consoleChunks.push(b);
    // look for the panic line across chunk boundaries without rescanning the whole log
    const text = this.consoleTail + b.toString('latin1');
    this.consoleTail = text.slice(-200);
    if (!this.panicTimer && panicLine(text)) {
      this.panicTimer = setTimeout(() => this.fail(), this.opts.panicGraceMs ?? 1500);
    }
  }

  private onChannelGone(): void {
    if (this.failure) return;
    if (this.poweringOff) {
      // the poweroff answer may never come: the machine is off
      this.failure = new GuestSessionError({ state: 'ran', detail: 'powered off' });
      this.rejectAll();
      return;
    }
    this.died = true;
    // give the console a moment to deliver a panic's last lines before classifying
    setTimeout(() => this.fail(), 300);
  }

  private fail(): void {
    if (this.failure) return;
    this.failure = new GuestSessionError(classifySession(this.facts()));
    this.rejectAll();
    this.opts.kill?.();
  }

  private rejectAll(): void {
    this.dispose();
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(this.failure!);
    }
    for (const w of this.helloWaiters.splice(0)) w.reject(this.failure!);
  }
}
