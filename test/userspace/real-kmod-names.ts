/**
 * DOC: the names the real-kmod comparison resolves (a helper of real-kmod.test.ts, not a test):
 * every modalias of every machine profile and the request_module() name families of a tree.
 */
import fs from 'node:fs';
import path from 'node:path';
import { dataPath } from '../../src/userspace/depmod/paths.js';
import { coldplugDevices } from '../../src/userspace/machines/coldplug.js';
import { loadMachine } from '../../src/userspace/machines/load.js';
import type { ModuleSet } from '../../src/userspace/moduleset.js';

const GLOB = /[*?[\\]/;

/** The names to resolve: the profiles' modaliases and the tree's request_module() name families. */
export function aliasesToResolve(set: ModuleSet): string[] {
  const out = new Set<string>();
  for (const f of fs.readdirSync(dataPath('machines')).filter((n) => n.endsWith('.json')).sort()) {
    const m = loadMachine(path.basename(f, '.json'));
    for (const ev of coldplugDevices(m, 1)) out.add(ev.modalias);
  }
  const patterns = [...set.aliases, ...(set.builtinAliases ?? [])].map((a) => a.pattern);
  for (const p of patterns) {
    if (!/^(fs|crypto|net-pf|char-major)-/.test(p)) continue;
    // a glob (char-major-10-*, net-pf-10-proto-*) stands for the names the kernel asks for
    out.add(GLOB.test(p) ? p.replace(/\*/g, '0').replace(/\?/g, '0').replace(/\[[^\]]*\]/g, '0') : p);
  }
  for (let pf = 0; pf < 46; pf++) out.add(`net-pf-${pf}`);
  const symbols = [...(set.symbols?.keys() ?? [])];
  // every 60th exported symbol, and the one the issue names
  symbols.forEach((s, i) => {
    if (i % 60 === 0) out.add(s);
  });
  out.add('symbol:crc_t10dif');
  out.add('symbol:kmodlab_nope');
  out.add('fs-kmodlab-nope');
  return [...out];
}

