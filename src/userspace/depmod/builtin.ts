/**
 * DOC: modules.builtin and modules.order — module lists by path.
 *
 * modules.builtin lists the modules compiled into the kernel image (kmod reports them as BUILTIN
 * and never loads them); modules.order is the order the build linked modules, which depmod uses
 * to rank duplicate aliases. Both hold one `kernel/...ko` path per line.
 */
import { contentLines, checkText, lineError } from './lines.js';
import { isModulePath, modNameFromPath } from './names.js';

function parsePathList(text: string, file: string): string[] {
  checkText(file, text);
  const out: string[] = [];
  for (const line of contentLines(text)) {
    if (/\s/.test(line.text) || !isModulePath(line.text)) throw lineError(file, line, 'expected one module path');
    out.push(modNameFromPath(line.text));
  }
  return out;
}

export function parseModulesBuiltin(text: string, file = 'modules.builtin'): Set<string> {
  return new Set(parsePathList(text, file));
}

export function parseModulesOrder(text: string, file = 'modules.order'): string[] {
  return parsePathList(text, file);
}
