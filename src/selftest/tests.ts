/**
 * DOC: the kmod.sh test table (spec §7.3), and the scripts of each era as data (spec §7.4).
 *
 * kmod.sh keeps its tests as `ID:COUNT:ENABLED` entries; which IDs exist depends on the kernel
 * the script came with: the 4.13 original has 0001–0009, v5.7 added 0010/0011 (with the modprobe
 * path save/restore and the "Test completed" trap), v5.8 added 0012/0013. Each era's script is a
 * row of KMOD_SH_SCRIPTS listing what it has, so the runner asks the row and never compares
 * eras; which era a kernel ships is its preset's `constants.kmodSh`. The descriptions are the
 * script's list_tests text (0001–0003 carry two spaces after "thread", to line up with
 * "threads").
 */
export type KmodShEra = 'v4.13' | 'v5.7' | 'v5.8';

/** What one era's kmod.sh has. */
export interface KmodShScript {
  era: KmodShEra;
  /** the IDs of its test list */
  tests: readonly string[];
  /** saves /proc/sys/kernel/modprobe and arms the EXIT trap that restores it and prints "Test completed" */
  finishTrap: boolean;
  /** its usage text has the -s and -c descriptions swapped */
  usageSwapsSC: boolean;
}

const TESTS_V413 = ['0001', '0002', '0003', '0004', '0005', '0006', '0007', '0008', '0009'];
const TESTS_V57 = [...TESTS_V413, '0010', '0011'];

export const KMOD_SH_SCRIPTS: readonly KmodShScript[] = [
  { era: 'v4.13', tests: TESTS_V413, finishTrap: false, usageSwapsSC: true },
  { era: 'v5.7', tests: TESTS_V57, finishTrap: true, usageSwapsSC: false },
  { era: 'v5.8', tests: [...TESTS_V57, '0012', '0013'], finishTrap: true, usageSwapsSC: false },
];

export const KMOD_SH_ERAS: readonly KmodShEra[] = KMOD_SH_SCRIPTS.map((s) => s.era);

/** the newest script: what real targets run unless told otherwise */
export const NEWEST_KMOD_SH: KmodShEra = 'v5.8';

/** the script of an era */
export function kmodShScript(era: KmodShEra): KmodShScript {
  const s = KMOD_SH_SCRIPTS.find((x) => x.era === era);
  if (s === undefined) throw new Error(`kmod.sh: no script of era ${era}`);
  return s;
}

export interface KmodTest {
  /** four digits, e.g. "0008" */
  id: string;
  /** recommended number of runs (`-t`, `all`) */
  count: number;
  enabled: boolean;
  description: string;
  /** first script era that has the test (informational: KMOD_SH_SCRIPTS decides) */
  since: KmodShEra;
}

export const KMOD_TESTS: readonly KmodTest[] = [
  { id: '0001', count: 3, enabled: true, since: 'v4.13', description: 'Simple test - 1 thread  for empty string' },
  { id: '0002', count: 3, enabled: true, since: 'v4.13', description: 'Simple test - 1 thread  for modules/filesystems that do not exist' },
  { id: '0003', count: 1, enabled: true, since: 'v4.13', description: 'Simple test - 1 thread  for get_fs_type() only' },
  { id: '0004', count: 1, enabled: true, since: 'v4.13', description: 'Simple test - 2 threads for get_fs_type() only' },
  { id: '0005', count: 10, enabled: true, since: 'v4.13', description: 'multithreaded tests with default setup - request_module() only' },
  { id: '0006', count: 10, enabled: true, since: 'v4.13', description: 'multithreaded tests with default setup - get_fs_type() only' },
  {
    id: '0007',
    count: 5,
    enabled: true,
    since: 'v4.13',
    description: 'multithreaded tests with default setup test request_module() and get_fs_type()',
  },
  {
    id: '0008',
    count: 150,
    enabled: true,
    since: 'v4.13',
    description: 'multithreaded - push kmod_concurrent over max_modprobes for request_module()',
  },
  {
    id: '0009',
    count: 150,
    enabled: true,
    since: 'v4.13',
    description: 'multithreaded - push kmod_concurrent over max_modprobes for get_fs_type()',
  },
  { id: '0010', count: 1, enabled: true, since: 'v5.7', description: 'test nonexistent modprobe path' },
  { id: '0011', count: 1, enabled: true, since: 'v5.7', description: 'test completely disabling module autoloading' },
  { id: '0012', count: 1, enabled: true, since: 'v5.8', description: 'test /proc/modules address visibility under CAP_SYSLOG' },
  { id: '0013', count: 1, enabled: true, since: 'v5.8', description: 'test /sys/module/*/sections/* visibility under CAP_SYSLOG' },
];

/** the tests the script of `era` has, in table order */
export function testsForEra(era: KmodShEra): KmodTest[] {
  const ids = kmodShScript(era).tests;
  return KMOD_TESTS.filter((t) => ids.includes(t.id));
}

/** total runs of a default (`all`) run */
export function defaultIterations(tests: readonly KmodTest[]): number {
  return tests.filter((t) => t.enabled).reduce((n, t) => n + t.count, 0);
}

/** the kselftest config fragment kmod.sh prints when test_kmod0 is missing */
export const KMOD_CONFIG_FRAGMENT = ['CONFIG_TEST_KMOD=m', 'CONFIG_TEST_LKM=m', 'CONFIG_XFS_FS=m', 'CONFIG_TUN=m', 'CONFIG_BTRFS_FS=m'];

/** errno_name_to_val / errno_val_to_name of kmod.sh */
const ERRNO_TABLE: [string, string][] = [
  ['MODULE_NOT_FOUND', '256'],
  ['SUCCESS', '0'],
  ['-EPERM', '-1'],
  ['-ENOENT', '-2'],
  ['-EINVAL', '-22'],
  ['-ERR_ANY', '-123456'],
];

export function errno_name_to_val(name: string): string {
  return ERRNO_TABLE.find(([n]) => n === name)?.[1] ?? 'invalid';
}

export function errno_val_to_name(val: string): string {
  return ERRNO_TABLE.find(([, v]) => v === val)?.[0] ?? 'invalid';
}

export function isEra(s: string): s is KmodShEra {
  return (KMOD_SH_ERAS as readonly string[]).includes(s);
}
