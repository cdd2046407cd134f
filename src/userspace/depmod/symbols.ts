/**
 * DOC: modules.symbols — which module exports a symbol, for symbol_request().
 *
 * `alias symbol:NAME MODULE`, one line per exported symbol (depmod keeps one owner per symbol).
 * libkmod consults it third, right after modules.dep, and only for names starting "symbol:"
 * (so `modprobe symbol:crc_t10dif` loads crc-t10dif, the module that exports it).
 */
import { InputError } from '../../errors.js';
import { parseModulesAlias } from './alias.js';

export function parseModulesSymbols(text: string, file = 'modules.symbols'): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of parseModulesAlias(text, file)) {
    if (!a.pattern.startsWith('symbol:')) throw new InputError(`${file}: expected "alias symbol:NAME MODULE", found alias ${JSON.stringify(a.pattern)}`);
    // the index holds the first owner depmod wrote; a repeated symbol keeps it
    if (!out.has(a.pattern)) out.set(a.pattern, a.module);
  }
  return out;
}
