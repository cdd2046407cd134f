/**
 * DOC: a real /lib/modules/<release>/ tree → ModuleSet.
 *
 * Reads what depmod wrote (modules.dep, .alias, .softdep, .symbols, .builtin, .order) and the
 * build's modules.builtin.modinfo, and every module file
 * modules.dep names, for its sizes, compression, signature and allocated sections. modules.dep is
 * required (no depmod run, no tree); the other index files are optional, as a tree without them
 * simply has no aliases, soft dependencies or built-ins.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../../errors.js';
import type { ModuleInfo, ModuleSet } from '../moduleset.js';
import { parseModulesAlias } from './alias.js';
import { parseModulesBuiltin, parseModulesOrder } from './builtin.js';
import { parseModulesDep } from './dep.js';
import { readKoFile } from './kofile.js';
import { parseModulesSoftdep } from './softdep.js';
import { parseModulesBuiltinModinfo } from './builtin-modinfo.js';
import { parseModulesSymbols } from './symbols.js';
import { requireRegularFile } from '../files.js';

export interface ReadTreeOptions {
  /** the release name; default: the directory's basename */
  release?: string;
  /** how many compressed modules to decompress at once (default 8) */
  concurrency?: number;
  /** called after each module file, for progress output */
  onModule?: (done: number, total: number) => void;
}

function readText(file: string, required: boolean, encoding: BufferEncoding = 'utf8'): string | undefined {
  requireRegularFile(file);
  try {
    return fs.readFileSync(file, encoding);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!required && code === 'ENOENT') return undefined;
    if (code === 'ENOENT') throw new InputError(`${file}: not found (is this a /lib/modules/<release> directory after depmod?)`);
    throw new InputError(`${file}: cannot read: ${code ?? String(err)}`);
  }
}

export async function readModulesDir(dir: string, opts: ReadTreeOptions = {}): Promise<ModuleSet> {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new InputError(`${dir}: no such directory`);
  }
  if (!st.isDirectory()) throw new InputError(`${dir}: not a directory`);
  const at = (f: string): string => path.join(dir, f);
  const depFile = at('modules.dep');
  const deps = parseModulesDep(readText(depFile, true)!, depFile);
  const aliasText = readText(at('modules.alias'), false);
  const softText = readText(at('modules.softdep'), false);
  const builtinText = readText(at('modules.builtin'), false);
  const orderText = readText(at('modules.order'), false);
  const symbolsText = readText(at('modules.symbols'), false);
  // NUL-separated records, not a text file
  const modinfoData = readText(at('modules.builtin.modinfo'), false, 'latin1');
  const softdeps = softText === undefined ? new Map() : parseModulesSoftdep(softText, at('modules.softdep'));

  const entries = [...deps.values()];
  const modules = new Map<string, ModuleInfo>();
  let done = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < entries.length) {
      const e = entries[next++]!;
      const file = path.isAbsolute(e.path) ? e.path : at(e.path);
      const facts = await readKoFile(file);
      const sd = softdeps.get(e.name);
      modules.set(e.name, {
        name: e.name,
        path: e.path,
        fileSize: facts.fileSize,
        compression: facts.compression,
        ...(facts.compressionWindow !== undefined ? { compressionWindow: facts.compressionWindow } : {}),
        imageSize: facts.imageSize,
        sections: facts.sections,
        signed: facts.signed,
        deps: e.deps,
        softdeps: { pre: sd?.pre ?? [], post: sd?.post ?? [] },
      });
      opts.onModule?.(++done, entries.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 8) }, worker));
  // keep modules.dep's order, independent of which worker finished first
  const ordered = new Map<string, ModuleInfo>();
  for (const e of entries) ordered.set(e.name, modules.get(e.name)!);

  return {
    release: opts.release ?? path.basename(path.resolve(dir)),
    modules: ordered,
    aliases: aliasText === undefined ? [] : parseModulesAlias(aliasText, at('modules.alias')),
    builtin: builtinText === undefined ? new Set() : parseModulesBuiltin(builtinText, at('modules.builtin')),
    order: orderText === undefined ? [] : parseModulesOrder(orderText, at('modules.order')),
    ...(symbolsText === undefined ? {} : { symbols: parseModulesSymbols(symbolsText, at('modules.symbols')) }),
    ...(modinfoData === undefined ? {} : { builtinAliases: parseModulesBuiltinModinfo(modinfoData, at('modules.builtin.modinfo')) }),
  };
}
