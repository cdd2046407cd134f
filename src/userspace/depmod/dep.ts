/**
 * DOC: modules.dep — which module files a module needs, as depmod resolved them from symbols.
 *
 * Each line is `PATH: DEP_PATH DEP_PATH ...`; paths are relative to /lib/modules/<release>/ (or
 * absolute for modules outside it). The dependency list holds direct and indirect dependencies;
 * modprobe loads them from the last to the first, then the module itself.
 */
import { contentLines, checkText, lineError } from './lines.js';
import { isModulePath, modNameFromPath } from './names.js';

export interface DepEntry {
  name: string;
  path: string;
  /** dependency module names, in file order */
  deps: string[];
}

/** Parse modules.dep text. Unknown module names in dependency lists are kept (checked by the caller). */
export function parseModulesDep(text: string, file = 'modules.dep'): Map<string, DepEntry> {
  checkText(file, text);
  const out = new Map<string, DepEntry>();
  for (const line of contentLines(text)) {
    const colon = line.text.indexOf(':');
    if (colon <= 0) throw lineError(file, line, 'expected "PATH: DEPS"');
    const modPath = line.text.slice(0, colon).trim();
    if (!isModulePath(modPath) || /\s/.test(modPath)) throw lineError(file, line, 'not a module path');
    const depPaths = line.text.slice(colon + 1).trim().split(/\s+/).filter((s) => s !== '');
    for (const d of depPaths) if (!isModulePath(d)) throw lineError(file, line, `dependency ${JSON.stringify(d)} is not a module path`);
    const name = modNameFromPath(modPath);
    if (name === '') throw lineError(file, line, 'empty module name');
    // depmod writes one line per module name; if a tree has two, the first wins as in kmod's index.
    if (out.has(name)) continue;
    out.set(name, { name, path: modPath, deps: depPaths.map(modNameFromPath) });
  }
  return out;
}
