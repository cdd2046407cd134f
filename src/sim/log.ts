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

  /**
   * the kinds some listener asked for, or null if one listens to every kind; while records are
   * not stored, records of other kinds are not made at all (a storm's metrics read 5 of its kinds)
   */
  private wanted: Set<string> | null = new Set();

  /** listen to the records (of `kinds` only, if given) from now on */
  on(fn: LogListener, kinds?: readonly string[]): void {
    this.listeners.push(fn);
    if (kinds === undefined) this.wanted = null;
    else if (this.wanted !== null) for (const k of kinds) this.wanted.add(k);
    this.enabled = true;
  }

  /** would a record of this kind be kept or heard? (callers can skip building its fields) */
  wants(kind: string): boolean {
    return this.enabled && (this.store || this.wanted === null || this.wanted.has(kind));
  }

  /** record an event about process `p` (default: the running process) */
  emit(kind: string, fields: Record<string, unknown> = {}, p: LogSubject | null = this.sim.current): void {
    if (!this.enabled) return;
    if (!this.store && this.wanted !== null && !this.wanted.has(kind)) return;
    const r: LogRecord = { t: this.sim.now, pid: p?.pid ?? 0, proc: p?.name ?? '', kind, fields };
    if (this.store) this.records.push(r);
    for (const fn of this.listeners) fn(r);
  }
}
