/**
 * DOC: which module-loading udev rules a device's "add" event hits, and what they load.
 *
 * Why: udevd's worker runs every rule for the event; the `kmod load` commands of the rules that
 * match are collected and run afterwards, in rule order, inside the worker (udev's RUN{builtin}).
 * This evaluates the match keys the shipped rules use against what the model knows of a device:
 * its subsystem, kernel name (the devpath's last component), driver, properties (DEVTYPE,
 * MODALIAS, ...) and, for `TEST=="[module/NAME]"`, whether /sys/module/NAME exists at that moment.
 * Values are udev patterns: fnmatch globs, with '|' separating alternatives.
 */
import { aliasMatches } from '../depmod/alias.js';
import type { KmodRule, RuleMatch } from './parse.js';

/** What the rules can see of one device event. */
export interface RuleDevice {
  action: string;
  devpath: string;
  subsystem: string;
  driver?: string;
  /** uevent properties: MODALIAS, DEVTYPE, ... */
  properties: Readonly<Record<string, string>>;
}

export interface RuleHost {
  /** does this /sys path exist now ("module/sg" → /sys/module/sg) */
  sysfsExists(rel: string): boolean;
}

/** One `kmod load` a rule asks for: module names, or the device's MODALIAS when `names` is empty. */
export interface KmodLoad {
  rule: KmodRule;
  names: string[];
}

/** a pattern's '|' alternatives, split once per pattern (the rules are matched for every event) */
const alternatives = new Map<string, readonly string[]>();

function patternMatches(pattern: string, value: string | undefined): boolean {
  // udev: an unset value is the empty string
  const v = value ?? '';
  let alts = alternatives.get(pattern);
  if (alts === undefined) alternatives.set(pattern, (alts = pattern.split('|')));
  for (const alt of alts) if (aliasMatches(alt, v)) return true;
  return false;
}

/** the property an ENV{NAME} key reads (null: not an ENV key), parsed once per key */
const envNames = new Map<string, string | null>();

function keyValue(key: string, dev: RuleDevice): string | undefined {
  switch (key) {
    case 'ACTION':
      return dev.action;
    case 'SUBSYSTEM':
      return dev.subsystem;
    case 'KERNEL':
      return dev.devpath.slice(dev.devpath.lastIndexOf('/') + 1);
    case 'DRIVER':
      return dev.driver;
    case 'DEVPATH':
      return dev.devpath.replace(/^\/sys/, '');
  }
  let env = envNames.get(key);
  if (env === undefined) envNames.set(key, (env = /^ENV\{(.+)\}$/.exec(key)?.[1] ?? null));
  return env !== null ? dev.properties[env] : undefined;
}

/** the /sys path a TEST value names, worked out once per value */
const testPaths = new Map<string, string>();
function testPath(value: string): string {
  let rel = testPaths.get(value);
  if (rel === undefined) {
    // "[SUBSYSTEM/SYSNAME]" names a device by subsystem and name; for module that is /sys/module/NAME
    const dv = /^\[([^/\]]+)\/([^\]]+)\]$/.exec(value);
    testPaths.set(value, (rel = dv ? `${dv[1]}/${dv[2]}` : value.replace(/^\/sys\//, '')));
  }
  return rel;
}

function matches(m: RuleMatch, dev: RuleDevice, host: RuleHost): boolean {
  let hit: boolean;
  if (m.key === 'TEST') {
    hit = host.sysfsExists(testPath(m.value));
  } else {
    hit = patternMatches(m.value, keyValue(m.key, dev));
  }
  return m.op === '==' ? hit : !hit;
}

/** whether every key matches (an empty list does) */
function allMatch(keys: readonly RuleMatch[], dev: RuleDevice, host: RuleHost): boolean {
  for (let i = 0; i < keys.length; i++) if (!matches(keys[i]!, dev, host)) return false;
  return true;
}

/**
 * The kmod loads an event's rules ask for, in the order udev runs them. Plain loops, not
 * some/every: the rules are matched for every event, and each callback was a closure per rule.
 */
export function kmodLoadsFor(rules: readonly KmodRule[], dev: RuleDevice, host: RuleHost): KmodLoad[] {
  const out: KmodLoad[] = [];
  next: for (let i = 0; i < rules.length; i++) {
    const r = rules[i]!;
    for (let j = 0; j < r.unless.length; j++) if (allMatch(r.unless[j]!, dev, host)) continue next;
    if (!allMatch(r.match, dev, host)) continue;
    out.push({ rule: r, names: r.load });
  }
  return out;
}
