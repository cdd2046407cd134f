/**
 * DOC: where kmodlab's own data files live.
 *
 * Snapshots and machine profiles ship in data/ at the package root; compiled code runs from
 * dist/src/..., sources from src/..., so the root is found by walking up to kmodlab's package.json
 * rather than by a fixed number of "..".
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        if ((JSON.parse(fs.readFileSync(pj, 'utf8')) as { name?: string }).name === 'kmodlab') return (cached = dir);
      } catch {
        // not ours: keep walking
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the kmodlab package root (no package.json named kmodlab above the code)');
    dir = up;
  }
}

export function dataPath(...parts: string[]): string {
  return path.join(packageRoot(), 'data', ...parts);
}
