/**
 * DOC: output paths, checked before any work and written with errors that name the option.
 *
 * A sweep can take an hour; an `--html nodir/r.html` that fails only at its end loses it all.
 * So every command checks each output path it was given before it starts (`checkOutputFile`,
 * `checkOutputDir`): the directory must exist and take a new file (checked by creating and
 * removing a probe, which is the only test that is right on /proc, read-only mounts and for
 * root alike), an existing target must not be a directory or a FIFO (a FIFO with no reader
 * would hang the write). Writes that still fail (disk full) say `--svg FILE: what`, not Node's
 * text about write-file-atomic's temporary file. `-` is refused here (a user means stdout by it,
 * and would otherwise get a file named `-`): a command with a free stdout takes it first
 * (`trace --out -`, `machines capture --out -`).
 */
import { closeSync, mkdirSync, openSync, rmdirSync, statSync, unlinkSync, type Stats } from 'node:fs';
import path from 'node:path';
import { errnoText, InputError, ioError } from '../errors.js';

/** write-file-atomic (and its signal-exit hooks) is imported at the first write: a run that writes no file never loads it */
async function writeFileAtomic(file: string, data: string | Buffer): Promise<void> {
  const { default: write } = await import('write-file-atomic');
  await write(file, data);
}

function statOrNull(p: string): Stats | null {
  try {
    return statSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ENOTDIR') return null;
    throw err;
  }
}

let probeCount = 0;
function probeName(dir: string): string {
  return path.join(dir, `.kmodlab-probe-${process.pid}-${probeCount++}`);
}

/** can a new file be made in DIR? (create and remove a probe) */
function probeDir(option: string, shown: string, dir: string): void {
  const probe = probeName(dir);
  try {
    closeSync(openSync(probe, 'wx'));
  } catch (err) {
    throw new InputError(`${option} ${shown}: cannot create files in ${dir} (${errnoText(err)})`);
  }
  try {
    unlinkSync(probe);
  } catch {
    // made but not removable: nothing better to do than leave it
  }
}

/** Check an output file's path before any work: `--svg FILE`, `--html FILE`, `--dmesg FILE`. */
export function checkOutputFile(option: string, file: string): void {
  if (file === '') throw new InputError(`${option}: empty path`);
  // '-' is stdout to a user; a command whose stdout is free handles it before calling this
  if (file === '-') throw new InputError(`${option} -: stdout already holds this command's output; give a file name (./- for a file named -)`);
  let st: Stats | null;
  try {
    st = statOrNull(file);
  } catch (err) {
    throw ioError(option, file, err);
  }
  if (st !== null) {
    if (st.isDirectory()) throw new InputError(`${option} ${file}: is a directory`);
    if (st.isCharacterDevice()) return; // /dev/null, /dev/stdout: written in place
    if (!st.isFile()) throw new InputError(`${option} ${file}: not a regular file`);
  }
  const dir = path.dirname(path.resolve(file));
  let d: Stats | null;
  try {
    d = statOrNull(dir);
  } catch (err) {
    throw ioError(option, file, err);
  }
  if (d === null) throw new InputError(`${option} ${file}: no such directory ${path.dirname(file)}`);
  if (!d.isDirectory()) throw new InputError(`${option} ${file}: ${path.dirname(file)} is not a directory`);
  probeDir(option, file, dir);
}

/** Check an output directory before any work (`--out DIR`): it, or its nearest existing parent, must take new entries. */
export function checkOutputDir(option: string, dir: string): void {
  if (dir === '') throw new InputError(`${option}: empty path`);
  if (dir === '-') throw new InputError(`${option} -: wants a directory, not stdout; give a directory name (./- for one named -)`);
  let p = path.resolve(dir);
  for (;;) {
    let st: Stats | null;
    try {
      st = statOrNull(p);
    } catch (err) {
      throw ioError(option, dir, err);
    }
    if (st !== null) {
      if (!st.isDirectory()) throw new InputError(p === path.resolve(dir) ? `${option} ${dir}: not a directory` : `${option} ${dir}: ${p} is not a directory`);
      break;
    }
    const up = path.dirname(p);
    if (up === p) break;
    p = up;
  }
  if (p === path.resolve(dir)) return probeDir(option, dir, p);
  // a directory will be created: try it with a probe directory in the nearest existing one
  const probe = probeName(p);
  try {
    mkdirSync(probe);
    rmdirSync(probe);
  } catch (err) {
    throw new InputError(`${option} ${dir}: cannot create a directory in ${p} (${errnoText(err)})`);
  }
}

/** Write an output file atomically; a failure is one line naming the option and the path. */
export async function writeOutputFile(option: string, file: string, data: string | Buffer): Promise<void> {
  try {
    const st = statOrNull(file);
    if (st?.isCharacterDevice()) {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(file, data);
      return;
    }
    await writeFileAtomic(file, data);
  } catch (err) {
    throw ioError(option, file, err);
  }
}
