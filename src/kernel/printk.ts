/**
 * DOC: printk — the simulated kernel's log buffer (dmesg).
 *
 * Lines carry the kernel's "[%5lu.%06lu] " timestamp from virtual time, so a run's dmesg can be
 * diffed against a real one. The helpers mirror the three ways the module loader rate-limits its
 * messages: pr_*_once, pr_*_ratelimited (10 messages per 5 s, then "callbacks suppressed"), and
 * counters such as v4.9's "at most 5 runaway loop messages".
 */
import type { Sim } from '../sim/index.js';

export type LogLevel = 'emerg' | 'err' | 'warn' | 'notice' | 'info' | 'debug';

const RATELIMIT_INTERVAL_NS = 5_000_000_000;
const RATELIMIT_BURST = 10;

/** "[%5lu.%06lu] " of a virtual time in ns */
export function timestamp(ns: number): string {
  const s = Math.floor(ns / 1e9);
  const us = Math.floor((ns % 1e9) / 1e3);
  return `[${String(s).padStart(5, ' ')}.${String(us).padStart(6, '0')}] `;
}

/** A ratelimit state (DEFINE_RATELIMIT_STATE with the default interval and burst). */
export class RateLimit {
  private begin = -1;
  private printed = 0;
  private missed = 0;
  constructor(
    readonly func: string,
    readonly intervalNs = RATELIMIT_INTERVAL_NS,
    readonly burst = RATELIMIT_BURST,
  ) {}

  /** ___ratelimit(): may the message be printed now? `log` receives the "suppressed" note */
  allow(now: number, log: (line: string) => void): boolean {
    if (this.begin < 0) this.begin = now;
    if (now >= this.begin + this.intervalNs) {
      if (this.missed > 0) log(`${this.func}: ${this.missed} callbacks suppressed`);
      this.begin = now;
      this.printed = 0;
      this.missed = 0;
    }
    if (this.printed < this.burst) {
      this.printed++;
      return true;
    }
    this.missed++;
    return false;
  }
}

export class Printk {
  readonly lines: string[] = [];
  private once = new Set<string>();
  private limits = new Map<string, RateLimit>();

  constructor(
    private readonly sim: Sim,
    /** also echo every line (debugging) */
    private readonly echo: ((line: string) => void) | null = null,
  ) {}

  printk(msg: string, level: LogLevel = 'info'): void {
    const line = timestamp(this.sim.now) + msg;
    this.lines.push(line);
    if (this.echo !== null) this.echo(line);
    if (this.sim.log.wants('printk')) this.sim.log.emit('printk', { level, line: msg });
  }

  warn(msg: string): void {
    this.printk(msg, 'warn');
  }

  /** pr_warn_once-style: `key` identifies the call site */
  once_(key: string, msg: string, level: LogLevel = 'warn'): boolean {
    if (this.once.has(key)) return false;
    this.once.add(key);
    this.printk(msg, level);
    return true;
  }

  /** pr_warn_ratelimited-style: one rate-limit state per call site `key` */
  ratelimited(key: string, func: string, msg: string, level: LogLevel = 'warn'): boolean {
    let rl = this.limits.get(key);
    if (rl === undefined) {
      rl = new RateLimit(func);
      this.limits.set(key, rl);
    }
    if (!rl.allow(this.sim.now, (l) => this.printk(l, level))) return false;
    this.printk(msg, level);
    return true;
  }

  /** a WARN()/WARN_ON_ONCE() splat, reduced to its recognisable lines */
  warnSplat(msg: string, where: string, pid: number): void {
    this.printk('------------[ cut here ]------------', 'warn');
    if (msg !== '') this.printk(msg, 'warn');
    this.printk(`WARNING: CPU: 0 PID: ${pid} at ${where}`, 'warn');
    this.printk('---[ end trace 0000000000000000 ]---', 'warn');
  }
}
