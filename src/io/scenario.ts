/**
 * DOC: reading an explore scenario: a built-in name (data/scenarios/NAME.json) or a JSON file.
 * The io layer reads; the experiment's schema (experiments/explore/scenario.ts) validates.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import { parseScenario, type Scenario } from '../experiments/explore/scenario.js';
import { dataPath } from '../userspace/depmod/paths.js';
import { requireRegularFile } from '../userspace/files.js';

export function builtinScenarios(): string[] {
  return readdirSync(dataPath('scenarios'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

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
