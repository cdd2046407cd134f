/**
 * DOC: modules.softdep — soft dependencies declared by modules (MODULE_SOFTDEP).
 *
 * `softdep NAME pre: A B post: C`: modprobe loads A and B before NAME and C after it, and
 * ignores their failures. Words before any "pre:"/"post:" belong to neither list and are skipped,
 * as kmod does (Debian's cifs declares some that way).
 *
 * Only the first `softdep` line of a module counts: libkmod keeps every line as a separate entry
 * and kmod_module_get_softdeps() stops at the first whose name matches (module-init-tools did the
 * same). depmod writes one line per MODULE_SOFTDEP, so Debian's btrfs, which declares four, gets
 * only `pre: blake2b-256`, and cifs, whose first line has no "pre:", gets none.
 */
import { contentLines, checkText, lineError } from './lines.js';
import { normaliseName } from './names.js';

export interface SoftDep {
  pre: string[];
  post: string[];
}

export function parseModulesSoftdep(text: string, file = 'modules.softdep'): Map<string, SoftDep> {
  checkText(file, text);
  const out = new Map<string, SoftDep>();
  for (const line of contentLines(text)) {
    const f = line.text.split(/\s+/);
    if (f[0] !== 'softdep') throw lineError(file, line, 'expected "softdep NAME pre: ... post: ..."');
    if (f.length < 2) throw lineError(file, line, 'missing module name');
    const name = normaliseName(f[1]!);
    if (name.endsWith(':')) throw lineError(file, line, 'missing module name');
    const sd: SoftDep = { pre: [], post: [] };
    let mode: 'none' | 'pre' | 'post' = 'none';
    for (const w of f.slice(2)) {
      if (w === 'pre:') mode = 'pre';
      else if (w === 'post:') mode = 'post';
      else if (mode !== 'none') sd[mode].push(normaliseName(w));
    }
    // a later line for the same module is parsed (and checked) but never consulted
    if (!out.has(name)) out.set(name, sd);
  }
  return out;
}
