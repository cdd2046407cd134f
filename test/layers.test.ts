/**
 * DOC: the layering of src/ holds — DESIGN.md's folders point one way, and no file is in a cycle.
 *
 * dependency-cruiser reads every import of src/ (type-only imports included: a type is a
 * dependency of the design even when the compiler erases it) against .dependency-cruiser.cjs:
 * a folder imports only the folders listed below it in DESIGN.md, errors.ts imports nothing,
 * src/ imports no test code, and no import cycle exists between files. The second test runs the
 * same rules on a small tree with one violation of each kind, so the check is known to fail
 * when it should.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const depcruise = path.join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
  cycle?: Array<{ name: string }>;
}

/** cruise `dir/src` with the project's rules; the violations found */
function cruise(dir: string): Violation[] {
  let out: string;
  try {
    out = execFileSync(process.execPath, [depcruise, 'src', '--config', '.dependency-cruiser.cjs', '--output-type', 'json'], {
      cwd: dir,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
  } catch (e) {
    // depcruise exits non-zero when it finds violations; its JSON is still on stdout
    out = (e as { stdout?: string }).stdout ?? '';
    if (out === '') throw e;
  }
  return (JSON.parse(out) as { summary: { violations: Violation[] } }).summary.violations;
}

function describe(v: Violation): string {
  const cycle = v.cycle ? ` (cycle: ${v.cycle.map((c) => c.name).join(' → ')})` : '';
  return `${v.rule.name}: ${v.from} → ${v.to}${cycle}`;
}

test('src/ imports point down the layers of DESIGN.md, with no cycle', () => {
  const found = cruise(root);
  assert.deepEqual(found.map(describe), []);
});

test('the layer check fails on an upward import, a type-only one, a cycle and test code in src/', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kmodlab-layers-'));
  try {
    copyFileSync(path.join(root, '.dependency-cruiser.cjs'), path.join(dir, '.dependency-cruiser.cjs'));
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true }, include: ['src/**/*.ts', 'test/**/*.ts'] }),
    );
    const files: Record<string, string> = {
      'src/errors.ts': 'export class InputError extends Error {}\n',
      'src/cli/main.ts': "import { InputError } from '../errors.js';\nexport const main = (): InputError => new InputError('x');\n",
      // a value import upward: the kernel reaching for the CLI
      'src/kernel/main.ts': "import { main } from '../cli/main.js';\nexport const load = (): unknown => main();\n",
      // a type-only import upward: userspace naming a report type
      'src/report/table.ts': 'export interface Row { n: number }\n',
      'src/userspace/udevd.ts': "import type { Row } from '../report/table.js';\nexport const row = (r: Row): number => r.n;\n",
      // a cycle inside one layer, closed by a type-only import
      'src/sim/a.ts': "import { b } from './b.js';\nexport const a = (): number => b() + 1;\n",
      'src/sim/b.ts': "import type { a } from './a.js';\nexport const b = (): number => 1;\nexport type A = typeof a;\n",
      // test code shipped in src/
      'test/helper.ts': 'export const fixture = 1;\n',
      'src/system/system.ts': "import { fixture } from '../../test/helper.js';\nexport const s = fixture;\n",
    };
    for (const [f, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      writeFileSync(path.join(dir, f), text);
    }
    const found = cruise(dir).map(describe).sort();
    assert.deepEqual(found, [
      'layer-kernel: src/kernel/main.ts → src/cli/main.ts',
      'layer-userspace: src/userspace/udevd.ts → src/report/table.ts',
      'no-circular: src/sim/a.ts → src/sim/b.ts (cycle: src/sim/b.ts → src/sim/a.ts)',
      'src-does-not-import-tests: src/system/system.ts → test/helper.ts',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
