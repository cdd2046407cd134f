/**
 * DOC: the shipped udev module-loading rules, one file per systemd version.
 *
 * data/udev-rules/systemd-<version>.json is written by scripts/udev-rules/generate.ts from the
 * rules files of Debian's udev package for that version (never by hand). A machine profile's
 * `udev.systemdVersion` picks the set by name — the shipped files are the table, no version is
 * compared with another. A profile without a version, or with one no set is shipped for, gets the
 * one rule every udev has had since kmod became a builtin: `ENV{MODALIAS}=="?*",
 * RUN{builtin}+="kmod load"`, and its `source` says so (a capture's note shows it); generate the
 * set with scripts/udev-rules/generate.ts to get the version's own rules. A set whose bytes are
 * those recorded in data/shipped-checksums.json (../shipped.ts) was validated when recorded and
 * is read without zod; any other is validated (zod and the schema loaded on first use).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { z as Zod } from 'zod';
import { InputError } from '../../errors.js';
import { dataPath } from '../depmod/paths.js';
import { knownShipped } from '../shipped.js';
import type { KmodRule } from './parse.js';

export const UDEV_RULES_FORMAT = 'kmodlab-udev-rules/1';

function buildSchema(z: typeof Zod) {
  const matchSchema = z.strictObject({ key: z.string().min(1), op: z.enum(['==', '!=']), value: z.string() });
  const rulesSchema = z.strictObject({
    format: z.literal(UDEV_RULES_FORMAT),
    systemdVersion: z.number().int().positive(),
    /** the package the rules came from: "udev 252.39-1~deb12u2 (Debian bookworm)" */
    source: z.string().min(1),
    rules: z.array(
      z.strictObject({
        file: z.string().min(1),
        line: z.number().int().positive(),
        match: z.array(matchSchema),
        unless: z.array(z.array(matchSchema)),
        load: z.array(z.string().min(1)),
      }),
    ),
  });
  return rulesSchema;
}

let schema: ReturnType<typeof buildSchema> | undefined;
function udevRulesSchema(): ReturnType<typeof buildSchema> {
  return (schema ??= buildSchema((createRequire(import.meta.url)('zod') as { z: typeof Zod }).z));
}

export type UdevRulesJson = Zod.infer<ReturnType<typeof buildSchema>>;

export interface UdevRules {
  systemdVersion: number | null;
  source: string;
  /** in the order udev runs them: by file name, then line */
  rules: KmodRule[];
}

/** the rule every udev with the kmod builtin has: load whatever the MODALIAS resolves to */
export const MODALIAS_ONLY: UdevRules = {
  systemdVersion: null,
  source: 'the modalias rule of 80-drivers.rules only',
  rules: [{ file: '80-drivers.rules', line: 0, match: [{ key: 'ENV{MODALIAS}', op: '==', value: '?*' }], unless: [], load: [] }],
};

export function parseUdevRules(json: unknown, file: string): UdevRules {
  const r = udevRulesSchema().safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new InputError(`${file}: not a kmodlab udev rules file: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  return { systemdVersion: r.data.systemdVersion, source: r.data.source, rules: r.data.rules };
}

const cache = new Map<number, UdevRules>();

/** The rules for a systemd version: its shipped set, else the MODALIAS rule alone (saying why). */
export function udevRulesFor(systemdVersion: number | undefined): UdevRules {
  if (systemdVersion === undefined) return MODALIAS_ONLY;
  let rules = cache.get(systemdVersion);
  if (rules !== undefined) return rules;
  const file = dataPath('udev-rules', `systemd-${systemdVersion}.json`);
  if (!fs.existsSync(file)) {
    rules = { ...MODALIAS_ONLY, systemdVersion, source: `no rules shipped for systemd ${systemdVersion}: ${MODALIAS_ONLY.source}` };
  } else {
    let json: unknown;
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
      json = JSON.parse(text);
    } catch (err) {
      throw new InputError(`${file}: cannot read: ${err instanceof Error ? err.message : String(err)}`);
    }
    const known = knownShipped(file, text);
    if (known !== null) {
      const r = (known.validated ?? json) as UdevRulesJson;
      rules = { systemdVersion: r.systemdVersion, source: r.source, rules: r.rules };
    } else rules = parseUdevRules(json, file);
  }
  cache.set(systemdVersion, rules);
  return rules;
}
