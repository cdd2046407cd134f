/**
 * DOC: modules.builtin.modinfo — the modinfo of code built into the kernel image.
 *
 * Why: a built-in module has no .ko, so its aliases are not in modules.alias. The kernel build
 * writes their modinfo as NUL-terminated `MODNAME.KEY=VALUE` records; depmod turns the `alias`
 * records into modules.builtin.alias.bin, and libkmod looks a name up there last, after every
 * other source (so `net-pf-10` resolves to the built-in ipv6 and modprobe says "builtin ipv6").
 * Only the alias records matter to module loading; the others are skipped, as depmod does.
 */
import { InputError } from '../../errors.js';
import type { AliasEntry } from '../moduleset.js';

/** The `alias` records, in file order (MODNAME as written: the build's KBUILD_MODNAME). */
export function parseModulesBuiltinModinfo(data: string | Buffer, file = 'modules.builtin.modinfo'): AliasEntry[] {
  const text = typeof data === 'string' ? data : data.toString('latin1');
  const out: AliasEntry[] = [];
  let at = 0;
  let recNo = 0;
  for (const rec of text.split('\0')) {
    recNo++;
    const start = at;
    at += rec.length + 1;
    if (rec === '') continue;
    const dot = rec.indexOf('.');
    const eq = rec.indexOf('=', dot + 1);
    if (dot <= 0 || eq < 0) throw new InputError(`${file}: record ${recNo} (byte ${start}): expected "MODNAME.KEY=VALUE": ${JSON.stringify(rec.slice(0, 60))}`);
    if (rec.slice(dot + 1, eq) !== 'alias') continue;
    const value = rec.slice(eq + 1);
    // depmod skips an alias with no value
    if (value === '') continue;
    out.push({ pattern: value, module: rec.slice(0, dot) });
  }
  return out;
}
