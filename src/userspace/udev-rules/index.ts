/**
 * DOC: udev's module-loading rules as data — parse (from the udev package), the shipped sets per
 * systemd version, and matching a device's event. One import point for udevd and the scripts.
 */
export { parseKmodRules, MATCH_KEYS, type KmodRule, type RuleMatch, type RuleOp } from './parse.js';
export { udevRulesFor, parseUdevRules, MODALIAS_ONLY, UDEV_RULES_FORMAT, type UdevRules, type UdevRulesJson } from './data.js';
export { kmodLoadsFor, type KmodLoad, type RuleDevice, type RuleHost } from './match.js';
