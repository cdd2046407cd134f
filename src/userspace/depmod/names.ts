/**
 * DOC: module names as kmod spells them.
 *
 * The kernel and kmod identify a module by mod->name, which is the file's basename without the
 * .ko suffix (and without a compression suffix), with every '-' turned into '_'. modules.dep,
 * modules.order and modules.builtin name files by path; everything else uses the normalised name.
 */

const KO_SUFFIX = /\.ko(\.(xz|zst|gz))?$/;

/** True when a path names a kernel module file (.ko, .ko.xz, .ko.zst, .ko.gz). */
export function isModulePath(p: string): boolean {
  return KO_SUFFIX.test(p);
}

/** 'kernel/arch/x86/kvm/kvm-intel.ko.xz' → 'kvm_intel' */
export function modNameFromPath(p: string): string {
  const base = p.slice(p.lastIndexOf('/') + 1).replace(KO_SUFFIX, '');
  return normaliseName(base);
}

/** '-' → '_', except inside [...] (kmod leaves alias character classes alone). */
export function normaliseName(s: string): string {
  let out = '';
  let inBracket = false;
  for (const ch of s) {
    if (ch === '[') inBracket = true;
    else if (ch === ']') inBracket = false;
    out += ch === '-' && !inBracket ? '_' : ch;
  }
  return out;
}
