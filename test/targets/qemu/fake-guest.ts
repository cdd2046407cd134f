/**
 * DOC: a fake guest that speaks the agent protocol over an in-memory stream pair, with knobs
 * for the ways a real guest misbehaves: garbage and printk noise on the line, answers that come
 * late, out of order or never, a torn frame, a panic on the console, a guest that just dies.
 */
import { Duplex, PassThrough } from 'node:stream';
import { encodeFrame, FrameDecoder, type Frame } from '../../../src/targets/qemu/protocol.js';

export interface FakeGuestBehaviour {
  /** send the hello right away (default true) */
  hello?: boolean;
  /** bytes written before every frame the guest sends */
  noiseBefore?: Buffer | string;
  /** requests (by op) the guest never answers */
  silentOps?: string[];
  /** requests (by op) after which the guest dies: the channel closes mid-request */
  dieOnOps?: string[];
  /** requests (by op) after which the console prints a panic and the guest dies */
  panicOnOps?: string[];
  /** delay of every answer (ms) */
  delayMs?: number;
  /** answers exec requests itself (argv without the timeout); undefined falls back to the echo */
  exec?: (argv: string[]) => { status?: string; stdout?: string; stderr?: string } | undefined;
}

/** The host's end of the channel, the console stream, and the guest's fake sysfs. */
export class FakeGuest {
  readonly host: Duplex;
  readonly console = new PassThrough();
  readonly files = new Map<string, string>([
    ['/sys/devices/virtual/misc/test_kmod0/config_num_threads', '50\n'],
    ['/proc/sys/kernel/modprobe', '/sbin/modprobe\n'],
  ]);
  received: Frame[] = [];
  private readonly toGuest = new PassThrough();
  private readonly decoder = new FrameDecoder();
  private dead = false;

  constructor(private readonly b: FakeGuestBehaviour = {}) {
    const toGuest = this.toGuest;
    this.host = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        toGuest.write(chunk);
        cb();
      },
    });
    this.toGuest.on('data', (c: Buffer) => this.onRequestBytes(c));
    if (b.hello !== false) setImmediate(() => this.send(encodeFrame('H', 0, ['6.1.0-fake', 'ready'])));
  }

  /** Raw bytes on the line, as a misbehaving guest or a printk on the wrong port would. */
  raw(bytes: Buffer | string): void {
    if (!this.dead) this.host.push(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  die(): void {
    if (this.dead) return;
    this.dead = true;
    this.host.push(null);
    this.host.emit('close');
    this.console.end();
  }

  private send(frame: Buffer): void {
    if (this.dead) return;
    if (this.b.noiseBefore) this.raw(this.b.noiseBefore);
    this.raw(frame);
  }

  private onRequestBytes(c: Buffer): void {
    for (const f of this.decoder.push(c).frames) {
      this.received.push(f);
      const op = f.fields[0]?.toString() ?? '';
      if (this.b.dieOnOps?.includes(op)) {
        this.die();
        return;
      }
      if (this.b.panicOnOps?.includes(op)) {
        this.console.write('[   12.3] Kernel panic - not syncing: Fatal exception\n[   12.4] ---[ end Kernel panic ]---\n');
        setTimeout(() => this.die(), 5);
        return;
      }
      if (this.b.silentOps?.includes(op)) continue;
      const answer = encodeFrame('R', f.id, this.answer(op, f.fields.slice(1).map((x) => x.toString('latin1'))));
      if (this.b.delayMs) setTimeout(() => this.send(answer), this.b.delayMs);
      else this.send(answer);
    }
  }

  private answer(op: string, args: string[]): string[] {
    switch (op) {
      case 'ping':
        return ['pong'];
      case 'read': {
        const v = this.files.get(args[0]!);
        return v === undefined ? ['-2', ''] : ['0', v];
      }
      case 'write': {
        const [path, data] = args as [string, string];
        if (!this.files.has(path)) return ['-2'];
        if (path.endsWith('config_num_threads') && !/^[1-9]\d*\n?$/.test(data)) return ['-22'];
        this.files.set(path, data);
        return [String(Buffer.byteLength(data, 'latin1'))];
      }
      case 'exec': {
        const own = this.b.exec?.(args.slice(1));
        if (own) return [own.status ?? 'exit 0', own.stdout ?? '', own.stderr ?? ''];
        return args[1] === 'false' ? ['exit 1', '', 'failed\n'] : ['exit 0', args.slice(1).join(' ') + '\n', ''];
      }
      case 'poweroff':
        setTimeout(() => this.die(), 5);
        return ['ok'];
      default:
        return ['error', 'unknown request'];
    }
  }
}
