/**
 * DOC: the errors and exit codes every layer may use.
 *
 * Every bad input ends as a single line on stderr naming the input and what was wrong, with a
 * non-zero exit code: never a stack trace. Library code at any depth (the kernel model included)
 * throws InputError; the CLI's top level catches it (and any other Error) and prints
 * `kmodlab: <message>`. The exit codes are kselftest's where it has one (0 pass, 1 fail, 4 skip),
 * the shell's for a timeout (124) and an interrupt (130), and kmodlab's own for the rest.
 */
import { constants as osConstants } from 'node:os';

/** Passed (kselftest KSFT_PASS). */
export const EXIT_PASS = 0;
/** A test failed, or a comparison found an unexplained difference (KSFT_FAIL). */
export const EXIT_FAIL = 1;
/** Bad input or usage: one line naming the input. */
export const EXIT_USAGE = 2;
/** A real kernel did not boot to its agent. */
export const EXIT_BOOT_FAILURE = 3;
/** Skipped: a precondition is not met (kselftest KSFT_SKIP). */
export const EXIT_SKIP = 4;
/** A real kernel panicked (seen on its console). */
export const EXIT_KERNEL_PANIC = 5;
/** A run was ended by its timeout (like timeout(1)). */
export const EXIT_TIMEOUT = 124;
/** Interrupted by SIGINT (128 + 2, like the shell). */
export const EXIT_INTERRUPTED = 130;
/** Ended by SIGHUP (128 + 1): the terminal went away (a dropped ssh session). */
export const EXIT_HANGUP = 129;
/** Ended by SIGTERM (128 + 15). */
export const EXIT_TERMINATED = 143;
/** stdout's reader went away (EPIPE): the status of a process killed by SIGPIPE (128 + 13). */
export const EXIT_BROKEN_PIPE = 141;

/** The exit status for a stop by a signal: 128 + its number, as shells report it. */
export function signalExitCode(sig: NodeJS.Signals): number {
  const n = (osConstants.signals as Partial<Record<NodeJS.Signals, number>>)[sig];
  return sig === 'SIGINT' || n === undefined ? EXIT_INTERRUPTED : 128 + n;
}

/** Bad input from the user (a file, an option value, a preset): exit code 2 unless given. */
export class InputError extends Error {
  constructor(
    message: string,
    readonly exitCode = EXIT_USAGE,
  ) {
    super(message);
    this.name = 'InputError';
  }
}

/**
 * A simulated run that did not settle: processes still waiting with nothing left to run, its
 * virtual-time deadline passed, or its wall-clock watchdog ran out. Exit 124, like a timeout: the
 * message names the run, its seed and what was still waiting. An InputError so that it crosses a
 * worker thread with its exit code (src/experiments/sweep-worker.ts).
 */
export class RunHangError extends InputError {
  constructor(message: string) {
    super(message, EXIT_TIMEOUT);
    this.name = 'RunHangError';
  }
}

/** A command whose issue has not landed yet. */
export class NotYetAvailable extends InputError {
  constructor(command: string) {
    super(`${command}: not yet available`, EXIT_USAGE);
    this.name = 'NotYetAvailable';
  }
}

/** One line for any thrown value; the full stack only with KMODLAB_DEBUG=1. */
export function errorLine(err: unknown): string {
  if (err instanceof Error) {
    const msg = err.message.split('\n')[0] ?? String(err);
    return msg;
  }
  return String(err);
}

const ERRNO_TEXT: Readonly<Record<string, string>> = {
  EISDIR: 'is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EEXIST: 'already exists',
  ENAMETOOLONG: 'name too long',
  ELOOP: 'too many symbolic links',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
  EBUSY: 'busy',
  ENXIO: 'no reader (a FIFO or a device that is not there)',
};

/** the words for an errno code ("is a directory"), or the code itself in lower case */
export function errnoText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (typeof code === 'string') return ERRNO_TEXT[code] ?? code;
  return err instanceof Error ? (err.message.split('\n')[0] ?? String(err)) : String(err);
}

/**
 * An I/O failure as the user's input: the option and the path they gave, and what is wrong with
 * it (`--out /tmp/x/adir: is a directory`) — never Node's text naming a temporary file.
 */
export function ioError(option: string, userPath: string, err: unknown): InputError {
  if (err instanceof InputError) return err;
  return new InputError(`${option === '' ? '' : `${option} `}${userPath}: ${errnoText(err)}`);
}
