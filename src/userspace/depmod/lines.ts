/**
 * DOC: line handling shared by the depmod text-file readers.
 *
 * depmod's output files are line-oriented text; every reader reports a bad line as one
 * InputError naming the file and the 1-based line number, so a user can open the file there.
 */
import { InputError } from '../../errors.js';

export interface Line {
  /** 1-based */
  no: number;
  text: string;
}

/** Non-empty, non-comment lines (kmod skips '#' comments and blank lines in these files). */
export function contentLines(text: string): Line[] {
  const out: Line[] = [];
  const raw = text.split('\n');
  for (let i = 0; i < raw.length; i++) {
    const t = raw[i]!.replace(/\r$/, '').trim();
    if (t === '' || t.startsWith('#')) continue;
    out.push({ no: i + 1, text: t });
  }
  return out;
}

export function lineError(file: string, line: Line, what: string): InputError {
  const shown = line.text.length > 60 ? `${line.text.slice(0, 57)}...` : line.text;
  return new InputError(`${file}:${line.no}: ${what}: ${JSON.stringify(shown)}`);
}

/** Reject bytes that cannot appear in a depmod text file (NUL and other C0 controls but tab). */
export function checkText(file: string, text: string): void {
  // eslint-disable-next-line no-control-regex
  const bad = /[\x00-\x08\x0b\x0c\x0e-\x1f]/.exec(text);
  if (bad) {
    const lineNo = text.slice(0, bad.index).split('\n').length;
    throw new InputError(`${file}:${lineNo}: control character 0x${bad[0].charCodeAt(0).toString(16).padStart(2, '0')} in a text file`);
  }
}
