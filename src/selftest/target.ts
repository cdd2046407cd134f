/**
 * DOC: Target — what the selftest runner (and the storm) drives.
 *
 * The kmod.sh port never knows whether the kernel is simulated, booted under QEMU, or the host
 * itself: it reads and writes test_kmod0's knobs, runs modprobe, reads and writes
 * /proc/sys/kernel/modprobe and reads /proc files, all through this interface. Every call is
 * async because the real targets are.
 */

/** What kmod.sh's test_reqs / load_req_mod check before running anything (spec §7.1). */
export interface Preconditions {
  /** uid 0 */
  root: boolean;
  /** `modprobe` found in PATH */
  modprobe: boolean;
  /** `kmod` found in PATH */
  kmod: boolean;
  /** the version number `kmod --version` prints (e.g. 30), or null if it could not be read */
  kmodVersion: number | null;
  /** /sys/devices/virtual/misc/test_kmod0 exists (after `modprobe test_kmod`) */
  testKmodPresent: boolean;
}

/** The result of one process the target ran (modprobe, a reader with dropped capabilities). */
export interface ProcessResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A write(2) to a sysfs or proc file: the byte count on success, or -errno. */
export type WriteResult = number;

export interface Target {
  /** e.g. "sim:v6.1-stable", "qemu:debian-6.1", "sysfs" */
  readonly name: string;
  /** the kernel this target runs, for reports (preset name, or uname -r) */
  readonly kernel: string;

  preconditions(): Promise<Preconditions>;

  /** `modprobe test_kmod` when test_kmod0 is missing (kmod.sh's load_req_mod) */
  loadTestKmod(): Promise<ProcessResult>;

  /** read /sys/devices/virtual/misc/test_kmod0/<knob> (whole content); -errno as a thrown KnobError */
  readKnob(knob: string): Promise<string>;
  /** write(2) `data` to test_kmod0/<knob>; resolves to the byte count or -errno */
  writeKnob(knob: string, data: string): Promise<WriteResult>;

  /** run `modprobe ARGS…` in the target's userspace */
  modprobe(args: string[]): Promise<ProcessResult>;

  /** /proc/sys/kernel/modprobe (with its trailing newline stripped) */
  readModprobePath(): Promise<string>;
  writeModprobePath(path: string): Promise<void>;

  /** read a file as root, or with CAP_SYSLOG dropped (kmod.sh 0012/0013 use capsh --drop) */
  readFile(path: string, opts?: { dropCapSyslog?: boolean }): Promise<string>;

  /** the names in a directory, dot-files included (for the shell globs kmod.sh uses, e.g. 0013's
   *  sections/.*text); [] if it does not exist */
  listDir(path: string): Promise<string[]>;

  /** the target's clock for kmod.sh's `date` lines (virtual time on the simulator) */
  date(): Promise<string>;

  /** the kernel log so far (dmesg), kept beside the results */
  kernelLog(): Promise<string>;

  /** release everything; must restore anything the run changed on the host (the modprobe path) */
  close(): Promise<void>;
}

/** A knob read that failed with -errno. */
export class KnobError extends Error {
  constructor(
    readonly knob: string,
    readonly errno: number,
  ) {
    super(`${knob}: read failed with ${-errno}`);
    this.name = 'KnobError';
  }
}
