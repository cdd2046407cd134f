/**
 * DOC: the `kmod` kselftest collection kmodlab installs — what `run_kselftest.sh -c kmod` (and
 * kdevops, LAVA, KernelCI, which all drive kselftest's runner.sh) runs unchanged.
 *
 * An installed kselftest tree is `run_kselftest.sh`, `kselftest/runner.sh`, a
 * `kselftest-list.txt` of `collection:test` lines and one directory per collection. runner.sh
 * runs each test as `./TEST $KSELFTEST_<TEST>_ARGS` from its directory, under `timeout` with the
 * collection's `settings` (`timeout=` seconds; kselftest's default is 45, far too short for kmod.sh
 * on a real kernel), prefixes its output with `# ` and prints `ok N selftests: kmod: kmod.sh`,
 * `… # SKIP` for exit 4, `not ok … # TIMEOUT N seconds` for 124 and `not ok … # exit=N` otherwise.
 *
 * So the collection is: `kmod/kmod.sh`, a wrapper that execs `kmodlab selftest --ktap` with the
 * installed defaults first and its own arguments after them (kmod.sh's — `-t 0008` — and
 * kmodlab's — `--target qemu:debian-6.1 --kernel v6.4` —, later ones win), so
 * `KSELFTEST_KMOD_SH_ARGS` passes both; `exec`, so the runner's SIGTERM reaches kmodlab itself,
 * which closes its KTAP and its guest; `kmod/settings` with a timeout that fits the target;
 * `kmod/config`, the kernel config fragment kmod.sh needs; and the `kmod:kmod.sh` list entry.
 * kmodlab's own `--timeout` is set a little below the runner's, so a run that is too slow ends
 * with its KTAP closed (`# TIMEOUT`) and its logs kept before the runner's kill.
 */
import { KMOD_CONFIG_FRAGMENT } from './tests.js';

/** the list entry of the collection */
export const KSELFTEST_ENTRY = 'kmod:kmod.sh';

/**
 * `settings` timeouts (s). The simulator's full suite takes about 2 s (5 s on a loaded machine):
 * 300 s leaves room for `-c` with large counts. A real kernel under TCG needs about 22 minutes
 * for the full suite (data/calibration: 0009 alone ~15 min): 45 minutes.
 */
export const SETTINGS_TIMEOUT_S = { sim: 300, qemu: 2700 } as const;
/** how much earlier kmodlab's own deadline fires than the runner's (time to close and power off) */
export const OWN_DEADLINE_MARGIN_S = { sim: 10, qemu: 60 } as const;

export interface CollectionOptions {
  /** the command that runs kmodlab (absolute paths: node, bin/kmodlab.js) */
  kmodlab: readonly string[];
  /** the installed default target: sim, sysfs or qemu:NAME */
  target: string;
  /** sim: the installed default preset */
  kernel?: string;
  /** the runner's timeout (s); default per target */
  timeoutS?: number;
}

/** the kind of target a --target value names, for the timeouts */
export function targetKind(target: string): 'sim' | 'qemu' {
  return target.startsWith('qemu:') ? 'qemu' : 'sim';
}

/** POSIX shell single-quoting */
export function shQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The collection's files, by path relative to the kselftest directory. */
export function kselftestCollection(o: CollectionOptions): Record<'kmod/kmod.sh' | 'kmod/settings' | 'kmod/config', string> {
  const kind = targetKind(o.target);
  const timeout = o.timeoutS ?? SETTINGS_TIMEOUT_S[kind];
  const own = Math.max(1, timeout - Math.min(OWN_DEADLINE_MARGIN_S[kind], Math.floor(timeout / 4)));
  const defaults = ['--ktap', '--target', o.target, ...(o.kernel !== undefined ? ['--kernel', o.kernel] : []), '--timeout', String(own)];
  const script = [
    '#!/bin/sh',
    '# SPDX-License-Identifier: GPL-2.0-only',
    '# kmodlab\'s kmod.sh for kselftest, written by `kmodlab kselftest install`: runs kmodlab\'s port of',
    '# tools/testing/selftests/kmod/kmod.sh and prints KTAP. Arguments are kmod.sh\'s (all, -t NNNN,',
    '# -s NNNN, -c NNNN K, -l) and `kmodlab selftest` options (--target sim|qemu:NAME, --kernel P, …);',
    '# they come after the installed defaults below, so they win. runner.sh passes',
    '# $KSELFTEST_KMOD_SH_ARGS as arguments; a runner that does not still gets it read here.',
    '# KMODLAB overrides the command that runs kmodlab.',
    'if [ $# -eq 0 ] && [ -n "${KSELFTEST_KMOD_SH_ARGS:-}" ]; then',
    '\t# shellcheck disable=SC2086 # split into words, as runner.sh does',
    '\tset -- $KSELFTEST_KMOD_SH_ARGS',
    'fi',
    '# exec: the runner\'s SIGTERM (its timeout) goes to kmodlab, which closes its KTAP and its guest',
    `[ -z "\${KMODLAB:-}" ] || exec $KMODLAB selftest ${defaults.map(shQuote).join(' ')} "$@"`,
    `exec ${o.kmodlab.map(shQuote).join(' ')} selftest ${defaults.map(shQuote).join(' ')} "$@"`,
    '',
  ].join('\n');
  return {
    'kmod/kmod.sh': script,
    'kmod/settings': `timeout=${timeout}\n`,
    'kmod/config': `${KMOD_CONFIG_FRAGMENT.join('\n')}\n`,
  };
}

/** kselftest-list.txt with the collection's entry (added once, every other line kept) */
export function withListEntry(existing: string | null): string {
  const lines = (existing ?? '').split('\n').filter((l) => l !== '');
  if (!lines.includes(KSELFTEST_ENTRY)) lines.push(KSELFTEST_ENTRY);
  return `${lines.join('\n')}\n`;
}
