/**
 * DOC: boot a prepared kernel under QEMU and connect to its agent.
 *
 * The VM has two 16550 serial ports and nothing else (-nodefaults): ttyS0 is the kernel console,
 * read from QEMU's stdout and kept as the kernel log; ttyS1 is the agent channel, a unix socket
 * the host listens on before QEMU starts (QEMU connects as a client, so no frame can be sent
 * before someone listens). `panic=1` with `-no-reboot` turns a panic into a QEMU exit.
 *
 * QEMU runs in a process group of its own: a signal meant for kmodlab's group (Ctrl-C on the
 * terminal, kselftest's timeout(1) signalling the whole group) must not kill the guest under
 * kmodlab, which then could neither read dmesg nor tell a kill from a crash. kmodlab takes the
 * signal, shuts the guest down and keeps its logs (session.ts, selftest.ts); a process 'exit'
 * hook kills a QEMU that is still running when kmodlab exits any other way.
 *
 * Acceleration: TCG by default. With accel "auto", KVM is used only when a probe boot under KVM
 * reaches the agent within a short deadline; the verdict is cached per QEMU and host kernel,
 * because /dev/kvm can exist on machines where KVM does not run a guest.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync, mkdtempSync, rmSync, accessSync, constants } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { release as hostRelease, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { InputError, signalExitCode } from '../../errors.js';
import { cacheDir } from './kernels.js';
import type { PreparedKernel } from './prepare.js';
import { GuestSession, GuestSessionError } from './session.js';
import type { SessionOutcome } from './outcome.js';

export type Accel = 'tcg' | 'kvm' | 'auto';

export interface BootOptions {
  cpus?: number;
  memMiB?: number;
  /** deadline of the whole session (s); 0 = none */
  timeoutS?: number;
  /** deadline for the agent's hello (s) */
  bootTimeoutS?: number;
  /** default deadline of one request (s) */
  requestTimeoutS?: number;
  accel?: Accel;
  /** extra kernel command line */
  append?: string;
  cache?: string;
  qemu?: string;
}

export interface Guest {
  session: GuestSession;
  accel: 'tcg' | 'kvm';
  cpus: number;
  memMiB: number;
  /** host wall time from spawning QEMU to the agent's hello (ms) */
  bootMs: number;
  /** QEMU's own stderr (warnings, errors) */
  qemuStderr(): string;
  /** power off (or kill after a grace period) and return the session's final outcome */
  shutdown(): Promise<SessionOutcome>;
  /** kill QEMU now */
  kill(): void;
}

/** Boot once with the given accelerator; rejects with GuestSessionError (boot-failure, panic). */
async function bootOnce(prepared: PreparedKernel, accel: 'tcg' | 'kvm', opts: BootOptions): Promise<Guest> {
  const cpus = opts.cpus ?? 2;
  const memMiB = opts.memMiB ?? 2048;
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > 255) throw new InputError(`--cpus ${cpus}: must be 1..255`);
  if (!Number.isInteger(memMiB) || memMiB < 256) throw new InputError(`--mem ${memMiB}: must be at least 256 (MiB)`);
  const qemu = opts.qemu ?? 'qemu-system-x86_64';
  const tmp = mkdtempSync(join(tmpdir(), 'kmodlab-qemu-'));
  const sock = join(tmp, 'agent.sock');
  const server: Server = createServer();
  const connected = new Promise<Socket>((resolve) => server.once('connection', resolve));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(sock, resolve);
  });
  const append = ['console=ttyS0,115200', 'panic=1', 'rdinit=/init', opts.append ?? ''].join(' ').trim();
  const args = [
    ...(accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg', '-cpu', 'max']),
    '-M', 'pc', '-smp', String(cpus), '-m', String(memMiB),
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    '-kernel', prepared.vmlinuz, '-initrd', prepared.initramfs, '-append', append,
    '-chardev', 'stdio,id=con,signal=off', '-serial', 'chardev:con',
    '-chardev', `socket,id=agent,path=${sock}`, '-serial', 'chardev:agent',
  ];
  const t0 = Date.now();
  const proc: ChildProcess = spawn(qemu, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  const stderr: Buffer[] = [];
  proc.stderr!.on('data', (b: Buffer) => stderr.push(b));
  let exited = false;
  let exitSignal: NodeJS.Signals | null = null;
  // the guest must not outlive kmodlab (it is not in kmodlab's process group any more)
  const onExit = (): void => {
    if (!exited) proc.kill('SIGKILL');
  };
  process.on('exit', onExit);
  // a command that does not handle SIGINT/SIGTERM itself (kernel boot, storm) ends as Node's
  // default would, but not before the guest is gone: a signal skips 'exit' hooks
  const onSignal = (sig: NodeJS.Signals): void => {
    if (process.listenerCount(sig) > 1) return; // the command's own handler shuts the guest down
    onExit();
    process.exit(signalExitCode(sig));
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const sig of signals) process.on(sig, onSignal);
  const unhook = (): void => {
    process.removeListener('exit', onExit);
    for (const sig of signals) process.removeListener(sig, onSignal);
  };
  const exitedP = new Promise<void>((resolve) =>
    proc.on('exit', (_code, signal) => {
      exited = true;
      exitSignal = signal;
      unhook();
      resolve();
    }),
  );
  proc.on('error', () => {
    exited = true;
    unhook();
  });
  /** we kill QEMU ourselves only with SIGKILL: that one is ours, not "from outside" */
  let killedByUs = false;
  const kill = () => {
    if (!exited) {
      killedByUs = true;
      proc.kill('SIGKILL');
    }
  };
  const cleanup = () => {
    server.close();
    rmSync(tmp, { recursive: true, force: true });
  };
  void exitedP.then(cleanup);

  // The session starts on the console right away; the agent channel joins when QEMU connects.
  const session = new GuestSession(
    lateDuplex(connected),
    proc.stdout!,
    {
      bootTimeoutMs: (opts.bootTimeoutS ?? 120) * 1000,
      requestTimeoutMs: (opts.requestTimeoutS ?? 300) * 1000,
      sessionTimeoutMs: (opts.timeoutS ?? 0) * 1000,
      kill,
    },
  );
  void exitedP.then(() => session.vmExited(killedByUs ? null : exitSignal));
  try {
    await session.ready();
  } catch (e) {
    kill();
    await exitedP;
    if (e instanceof GuestSessionError && e.outcome.state === 'boot-failure') {
      const err = Buffer.concat(stderr).toString().trim().split('\n').slice(-1)[0];
      if (err) throw new GuestSessionError({ state: 'boot-failure', detail: `${e.outcome.detail}; qemu: ${err}` });
    }
    throw e;
  }
  const bootMs = Date.now() - t0;
  return {
    session,
    accel,
    cpus,
    memMiB,
    bootMs,
    qemuStderr: () => Buffer.concat(stderr).toString(),
    kill,
    async shutdown(): Promise<SessionOutcome> {
      if (!exited) {
        try {
          await session.poweroff(20_000);
        } catch {
          // the outcome below says what happened
        }
        const t = setTimeout(kill, 15_000);
        await exitedP;
        clearTimeout(t);
      }
      session.dispose();
      return session.outcome();
    },
  };
}

/** A Duplex whose traffic goes to a socket that connects later. */
function lateDuplex(connected: Promise<Socket>): Duplex {
  let sock: Socket | null = null;
  const queue: Buffer[] = [];
  const d = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      if (sock) sock.write(chunk, cb);
      else {
        queue.push(chunk);
        cb();
      }
    },
  });
  void connected.then((s) => {
    sock = s;
    for (const q of queue.splice(0)) s.write(q);
    s.on('data', (b: Buffer) => d.push(b));
    s.on('close', () => d.emit('close'));
    s.on('error', () => d.emit('close'));
  });
  return d;
}

interface KvmVerdict {
  key: string;
  works: boolean;
  checked: string;
}

function kvmUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Boot a prepared kernel and wait for its agent. accel "auto" tries KVM once, then remembers. */
export async function bootGuest(prepared: PreparedKernel, opts: BootOptions = {}): Promise<Guest> {
  for (const f of [prepared.vmlinuz, prepared.initramfs])
    if (!existsSync(f)) throw new InputError(`${prepared.name}: ${f} missing; run \`kmodlab kernel prepare ${prepared.name}\``);
  const accel = opts.accel ?? 'tcg';
  if (accel !== 'auto') return bootOnce(prepared, accel, opts);
  if (!kvmUsable()) return bootOnce(prepared, 'tcg', opts);
  const dir = cacheDir(opts.cache);
  const file = join(dir, 'kvm-probe.json');
  const key = `${hostRelease()}`;
  let verdict: KvmVerdict | null = null;
  try {
    verdict = JSON.parse(readFileSync(file, 'utf8')) as KvmVerdict;
    if (verdict.key !== key) verdict = null;
  } catch {
    verdict = null;
  }
  if (verdict && !verdict.works) return bootOnce(prepared, 'tcg', opts);
  try {
    const g = await bootOnce(prepared, 'kvm', { ...opts, bootTimeoutS: verdict ? opts.bootTimeoutS : 20 });
    if (!verdict) save(file, { key, works: true, checked: new Date().toISOString() });
    return g;
  } catch (e) {
    if (verdict) throw e;
    save(file, { key, works: false, checked: new Date().toISOString() });
    process.stderr.write(`kmodlab: KVM probe failed (${e instanceof Error ? e.message : String(e)}); using TCG\n`);
    return bootOnce(prepared, 'tcg', opts);
  }
}

function save(file: string, v: KvmVerdict): void {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, JSON.stringify(v) + '\n');
}
