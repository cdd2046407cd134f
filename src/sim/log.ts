/**
 * DOC: the event log.
 *
 * Typed records (time, process, kind, fields) that later stages turn into metrics, traces and
 * reports. Off by default, because a storm on 448 CPUs makes millions of them; listeners can
 * consume records as they happen without storing them.
 */
/** a process as the log names it */
export interface LogSubject {
  readonly pid: number;
  readonly name: string;
}

/** the engine as the log reads it: the clock and the running process */
export interface LogClock {
  readonly now: number;
  readonly current: LogSubject | null;
}

export interface LogRecord {
  /** virtual time, ns */
  t: number;
  /** pid of the process the record is about (0 = no process) */
  pid: number;
  /** that process's name */
  proc: string;
  kind: string;
  fields: Record<string, unknown>;
}

export type LogListener = (r: LogRecord) => void;

export class EventLog {
  readonly records: LogRecord[] = [];
  private listeners: LogListener[] = [];
  /** keep records in `records` (listeners are called either way while enabled) */
  store = true;

  constructor(
    private readonly sim: LogClock,
    public enabled: boolean,
  ) {}

  on(fn: LogListener): void {
    this.listeners.push(fn);
    this.enabled = true;
  }

  /** record an event about process `p` (default: the running process) */
  emit(kind: string, fields: Record<string, unknown> = {}, p: LogSubject | null = this.sim.current): void {
    if (!this.enabled) return;
    const r: LogRecord = { t: this.sim.now, pid: p?.pid ?? 0, proc: p?.name ?? '', kind, fields };
    if (this.store) this.records.push(r);
    for (const fn of this.listeners) fn(r);
  }
}
