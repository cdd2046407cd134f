/**
 * DOC: the host's files are opened only when they are regular files.
 *
 * open(2) on a FIFO blocks until a writer comes, and a read of a device may never end; a .ko,
 * modules.dep, a preset or a machine JSON that is one would hang kmodlab (and a blocked
 * synchronous open even delays Ctrl-C). So every reader of a user's file stats it first.
 */
import { statSync } from 'node:fs';
import { InputError } from '../errors.js';

/** throw one line unless `file` is a regular file (following symlinks); missing files pass (the open says so) */
export function requireRegularFile(file: string, shown = file): void {
  let st;
  try {
    st = statSync(file);
  } catch {
    return;
  }
  if (st.isDirectory()) throw new InputError(`${shown}: is a directory, not a file`);
  if (!st.isFile()) throw new InputError(`${shown}: not a regular file (a FIFO, socket or device would hang the read)`);
}
