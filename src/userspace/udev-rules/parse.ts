/**
 * DOC: udev rules files → the rules that load kernel modules (the data udevd's model applies).
 *
 * Why: besides the modalias-driven `kmod load` of 80-drivers.rules, udev's own rules load modules
 * by name for some devices (sg for every SCSI device in Debian's 80-debian-compat.rules, ppdev
 * when parport_pc appears, ...), so a real coldplug attempts modules the modalias alone never
 * names. Only the lines with `RUN{builtin}+="kmod load …"` are kept, each with its match keys,
 * and with the conditions of the `GOTO` lines that jump over it (`ACTION!="add",
 * GOTO="drivers_end"`), since a jump taken skips the rule. Everything else in the files (naming,
 * permissions, other builtins) does not touch module loading and is left out.
 *
 * The syntax handled is udev's: one rule per line, a trailing backslash continues it, '#' starts a
 * comment line, and a rule is comma-separated KEY[{ATTR}] OP "VALUE" pairs.
 */
import { InputError } from '../../errors.js';

export type RuleOp = '==' | '!=' | '=' | '+=' | '-=' | ':=';

/** One match key of a rule: SUBSYSTEM=="scsi", ENV{DEVTYPE}=="scsi_device", TEST!="[module/sg]". */
export interface RuleMatch {
  /** the key as written, with its attribute: SUBSYSTEM, KERNEL, ENV{DEVTYPE}, TEST, ACTION, DRIVER */
  key: string;
  op: '==' | '!=';
  value: string;
}

export interface KmodRule {
  /** the rules file's name (udev orders files by it) */
  file: string;
  /** 1-based line the rule starts on */
  line: number;
  /** every key must match */
  match: RuleMatch[];
  /** the conditions of GOTO lines that jump over this rule: if all of one list match, the rule is skipped */
  unless: RuleMatch[][];
  /** `kmod load NAME…`: the names, in order; empty = the device's MODALIAS */
  load: string[];
}

/** the match keys this model can evaluate (rules with other keys are refused at extraction) */
export const MATCH_KEYS = /^(ACTION|SUBSYSTEM|KERNEL|DRIVER|DEVPATH|TEST|ENV\{[A-Za-z0-9_]+\})$/;

interface Pair {
  key: string;
  op: RuleOp;
  value: string;
}

const PAIR = /^\s*([A-Z_]+(?:\{[^}]*\})?)\s*(==|!=|\+=|-=|:=|=)\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)/;

function parsePairs(text: string, file: string, line: number): Pair[] {
  const out: Pair[] = [];
  let rest = text;
  while (rest.trim() !== '') {
    const m = PAIR.exec(rest);
    if (!m) throw new InputError(`${file}:${line}: not a udev rule (KEY OP "VALUE", ...): ${JSON.stringify(rest.trim().slice(0, 60))}`);
    out.push({ key: m[1]!, op: m[2] as RuleOp, value: m[3]! });
    rest = rest.slice(m[0].length);
  }
  return out;
}

function toMatch(pairs: Pair[], file: string, line: number): RuleMatch[] {
  const out: RuleMatch[] = [];
  for (const p of pairs) {
    if (p.op !== '==' && p.op !== '!=') continue;
    if (!MATCH_KEYS.test(p.key)) throw new InputError(`${file}:${line}: a module-loading rule matches on ${p.key}, which the udevd model cannot evaluate`);
    out.push({ key: p.key, op: p.op, value: p.value });
  }
  return out;
}

/** The module-loading rules of one rules file, in file order. */
export function parseKmodRules(text: string, file: string): KmodRule[] {
  const out: KmodRule[] = [];
  /** GOTO conditions in force, by label */
  const jumps: { label: string; when: RuleMatch[] }[] = [];
  const raw = text.split('\n');
  for (let i = 0; i < raw.length; i++) {
    const start = i + 1;
    let l = raw[i]!.replace(/\r$/, '');
    while (l.endsWith('\\') && i + 1 < raw.length) l = l.slice(0, -1) + raw[++i]!.replace(/\r$/, '');
    const t = l.trim();
    if (t === '' || t.startsWith('#')) continue;
    const pairs = parsePairs(t, file, start);
    const label = pairs.find((p) => p.key === 'LABEL');
    if (label) for (let j = jumps.length - 1; j >= 0; j--) if (jumps[j]!.label === label.value) jumps.splice(j, 1);
    const loads = pairs.filter((p) => p.key === 'RUN{builtin}' && /^kmod load(\s|$)/.test(p.value));
    const go = pairs.find((p) => p.key === 'GOTO');
    if (loads.length > 0) {
      const match = toMatch(pairs, file, start);
      for (const r of loads) out.push({ file, line: start, match, unless: jumps.map((j) => j.when), load: r.value.split(/\s+/).slice(2).filter((s) => s !== '') });
    }
    if (go) {
      // only conditions the model can read matter for a jump over a module-loading rule; a jump
      // on anything else is kept out only if no such rule follows (checked when one does)
      const when = pairs.filter((p) => p.op === '==' || p.op === '!=');
      jumps.push({ label: go.value, when: when.map((p) => ({ key: p.key, op: p.op as '==' | '!=', value: p.value })) });
    }
  }
  for (const r of out) for (const u of r.unless) for (const m of u) {
    if (!MATCH_KEYS.test(m.key)) throw new InputError(`${file}:${r.line}: jumped over on ${m.key}, which the udevd model cannot evaluate`);
  }
  return out;
}
