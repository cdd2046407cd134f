/**
 * DOC: stdout and stderr that survive their reader going away.
 *
 * `kmodlab selftest | head -1` closes the pipe after one line. Node then fails the next write
 * with EPIPE, and an 'error' event nobody listens to prints a stack trace; worse, a pipe write is
 * synchronous on Linux but its error is reported later, so a long synchronous run (the selftest
 * suite) would go on to the end for nobody. So:
 *
 * - `installPipeGuards()` listens for 'error' on both streams: EPIPE ends the process at once and
 *   quietly with the status a shell shows for a process killed by SIGPIPE (128 + 13 = 141); any
 *   other write error is one line and exit 1;
 * - `stdout(text)` writes with a synchronous write(2) on fd 1, so EPIPE is seen at the write that
 *   hits it and the run stops there (EAGAIN on a non-blocking pipe is waited out).
 */
import { writeSync } from 'node:fs';
import { EXIT_BROKEN_PIPE, EXIT_FAIL } from '../errors.js';

const pause = new Int32Array(new SharedArrayBuffer(4));

/** the reader is gone: leave now, quietly, like a process killed by SIGPIPE */
export function brokenPipe(): never {
  process.exit(EXIT_BROKEN_PIPE);
}

function onStreamError(err: NodeJS.ErrnoException): void {
  if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') brokenPipe();
  try {
    writeSync(2, `kmodlab: cannot write output: ${err.code ?? err.message}\n`);
  } catch {
    // stderr is gone too: nothing left to tell
  }
  process.exit(EXIT_FAIL);
}

let installed = false;

/** EPIPE on stdout or stderr ends the process quietly (exit 141), never with a stack trace */
export function installPipeGuards(): void {
  if (installed) return;
  installed = true;
  process.stdout.on('error', onStreamError);
  process.stderr.on('error', onStreamError);
}

function writeFd(fd: number, text: string): void {
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        Atomics.wait(pause, 0, 0, 5); // a full non-blocking pipe: wait for the reader
        continue;
      }
      if (code === 'EPIPE') brokenPipe();
      throw err;
    }
  }
}

/** process.stdout.write as Node made it: a replaced one (a test capturing output) is honoured */
const nativeStdoutWrite = process.stdout.write;

/** write to stdout now; a closed pipe ends the process (exit 141) at this write */
export function stdout(text: string): void {
  if (process.stdout.write !== nativeStdoutWrite) {
    process.stdout.write(text);
    return;
  }
  writeFd(1, text);
}

/** write to stderr now; a closed stderr ends the process like a closed stdout */
export function stderr(text: string): void {
  writeFd(2, text);
}
