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

function patternMatches(pattern: string, value: string | undefined): boolean {
  // udev: an unset value is the empty string
  const v = value ?? '';
  return pattern.split('|').some((alt) => aliasMatches(alt, v));
}

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
  const env = /^ENV\{(.+)\}$/.exec(key);
  return env ? dev.properties[env[1]!] : undefined;
}

function matches(m: RuleMatch, dev: RuleDevice, host: RuleHost): boolean {
  let hit: boolean;
  if (m.key === 'TEST') {
    // "[SUBSYSTEM/SYSNAME]" names a device by subsystem and name; for module that is /sys/module/NAME
    const dv = /^\[([^/\]]+)\/([^\]]+)\]$/.exec(m.value);
    const rel = dv ? `${dv[1]}/${dv[2]}` : m.value.replace(/^\/sys\//, '');
    hit = host.sysfsExists(rel);
  } else {
    hit = patternMatches(m.value, keyValue(m.key, dev));
  }
  return m.op === '==' ? hit : !hit;
}

/** The kmod loads an event's rules ask for, in the order udev runs them. */
export function kmodLoadsFor(rules: readonly KmodRule[], dev: RuleDevice, host: RuleHost): KmodLoad[] {
  const out: KmodLoad[] = [];
  for (const r of rules) {
    if (r.unless.some((u) => u.every((m) => matches(m, dev, host)))) continue;
    if (!r.match.every((m) => matches(m, dev, host))) continue;
    out.push({ rule: r, names: r.load });
  }
  return out;
}
