/**
 * DOC: reading a kernel preset from a JSON file (the schema and the built-in presets are
 * kernel/presets.ts; the kernel reads no files).
 *
 * A user describes a kernel of their own as a base preset plus overrides
 * (`{name, basedOn, flags, constants}`). Every problem is one InputError line naming the file and,
 * for a bad value, the field: `preset file x.json: cannot read (ENOENT)`, `… invalid JSON (…)`,
 * `… flags.limiter: expected one of …`.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import { presetFromJson, type KernelPreset } from '../kernel/presets.js';
import { requireRegularFile } from '../userspace/files.js';

/** Read and validate a preset JSON file. */
export function loadPresetFile(file: string): KernelPreset {
  let text: string;
  requireRegularFile(file);
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`preset file ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new InputError(`preset file ${file}: invalid JSON (${(e as Error).message.split('\n')[0]})`);
  }
  return presetFromJson(data, `preset file ${file}`);
}
