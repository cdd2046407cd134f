/**
 * DOC: kmodlab's version, from package.json: named in a run directory's command.json and in the
 * HTML report. Apart from results-option.ts so that a storm without --results loads only this.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** the package root: dist/src/cli/ → three levels up */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** package.json's version ('unknown' when it cannot be read); also named in the HTML report */
export function kmodlabVersion(): string {
  try {
    return (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
