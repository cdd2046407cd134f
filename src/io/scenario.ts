/**
 * DOC: reading an explore scenario: a built-in name (data/scenarios/NAME.json), a JSON file, or
 * an ES module (.ts compiled on the fly like the policy plug-ins, .js, .mjs) whose default export
 * — or export named `scenario` — is the scenario's data. A module lets a scenario be computed
 * (62 test_kmod threads, one process per CPU) instead of written out. The io layer reads; the
 * experiment's schema (experiments/explore/scenario.ts) validates, with the same one-line errors
 * whatever the source.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError } from '../errors.js';
import { parseScenario, type Scenario } from '../experiments/explore/scenario.js';
import { dataPath } from '../userspace/depmod/paths.js';
import { requireRegularFile } from '../userspace/files.js';
import { compileTsModule } from './ts-module.js';

export function builtinScenarios(): string[] {
  return readdirSync(dataPath('scenarios'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

const MODULE = /\.(ts|mts|js|mjs)$/;

/** is this scenario argument an ES module (loaded with loadScenarioFile)? */
export function isScenarioModule(nameOrPath: string): boolean {
  return MODULE.test(nameOrPath);
}

/** A built-in or a JSON scenario (synchronous). */
export function loadScenario(nameOrPath: string): Scenario {
  const builtin = dataPath('scenarios', `${nameOrPath}.json`);
  const file = !nameOrPath.includes('/') && !nameOrPath.endsWith('.json') && existsSync(builtin) ? builtin : nameOrPath;
  // a FIFO would block the read (and Ctrl-C) forever
  requireRegularFile(file, `scenario ${nameOrPath}`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`scenario ${nameOrPath}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'}); built-ins: ${builtinScenarios().join(', ')}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new InputError(`scenario ${file}: invalid JSON (${(e as Error).message.split('\n')[0]})`);
  }
  return parseScenario(data, `scenario ${file}`);
}

/** Any scenario argument: a built-in, a JSON file or an ES module. */
export async function loadScenarioFile(nameOrPath: string): Promise<Scenario> {
  if (!isScenarioModule(nameOrPath)) return loadScenario(nameOrPath);
  const abs = path.resolve(nameOrPath);
  if (!existsSync(abs)) throw new InputError(`scenario ${nameOrPath}: no such file`);
  requireRegularFile(abs, `scenario ${nameOrPath}`);
  let mod: Record<string, unknown>;
  let tmp: string | null = null;
  try {
    let url = pathToFileURL(abs).href;
    if (/\.m?ts$/.test(abs)) {
      const c = await compileTsModule(abs, 'kmodlab-scenario-', {
        missing: `scenario ${nameOrPath}: a .ts scenario needs the 'typescript' package; compile it to .js or install typescript`,
        shown: `scenario ${nameOrPath}`,
      });
      tmp = c.dir;
      url = pathToFileURL(c.module).href;
    }
    mod = (await import(url)) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`scenario ${nameOrPath}: cannot load (${(e as Error).message.split('\n')[0]})`);
  } finally {
    if (tmp !== null) rmSync(tmp, { recursive: true, force: true });
  }
  const data = mod['default'] ?? mod['scenario'];
  if (data === undefined) throw new InputError(`scenario ${nameOrPath}: exports no scenario (want a default export or one named scenario)`);
  return parseScenario(typeof data === 'function' ? (data as () => unknown)() : data, `scenario ${nameOrPath}`);
}
