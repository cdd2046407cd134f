/**
 * DOC: errors the CLI reports as one line.
 *
 * Every bad input ends as a single line on stderr naming the input and what was wrong, with a
 * non-zero exit code: never a stack trace. Library code throws InputError; the CLI's top level
 * catches it (and any other Error) and prints `kmodlab: <message>`.
 */

/** Bad input from the user (a file, an option value, a preset): exit code 2 unless given. */
export class InputError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'InputError';
  }
}

/** A command whose issue has not landed yet. */
export class NotYetAvailable extends InputError {
  constructor(command: string) {
    super(`${command}: not yet available`, 2);
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
