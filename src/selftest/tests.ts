/**
 * DOC: the kmod.sh test table (spec §7.3), per era of the script.
 *
 * kmod.sh keeps its tests as `ID:COUNT:ENABLED` entries; which IDs exist depends on the kernel
 * the script came with: the 4.13 original has 0001–0009, v5.7 added 0010/0011 (with the modprobe
 * path save/restore and the "Test completed" trap), v5.8 added 0012/0013. The descriptions are
 * the script's list_tests text (0001–0003 carry two spaces after "thread", to line up with
 * "threads").
 */
export type KmodShEra = 'v4.13' | 'v5.7' | 'v5.8';

export const KMOD_SH_ERAS: readonly KmodShEra[] = ['v4.13', 'v5.7', 'v5.8'];

export interface KmodTest {
  /** four digits, e.g. "0008" */
  id: string;
  /** recommended number of runs (`-t`, `all`) */
  count: number;
  enabled: boolean;
  description: string;
  /** first script era that has the test */
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

const ERA_ORDER: Record<KmodShEra, number> = { 'v4.13': 0, 'v5.7': 1, 'v5.8': 2 };

/** the tests the script of `era` has */
export function testsForEra(era: KmodShEra): KmodTest[] {
  return KMOD_TESTS.filter((t) => ERA_ORDER[t.since] <= ERA_ORDER[era]);
}

/** does this era's script save and restore the modprobe path and print "Test completed"? */
export function eraHasFinishTrap(era: KmodShEra): boolean {
  return ERA_ORDER[era] >= ERA_ORDER['v5.7'];
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

/** the kmod.sh era of a kernel release, from the highest test ID its selftest ships
 *  (preset constant kmodShLastTest; 0 = no test_kmod at all → the 4.13 script, hypothetically) */
export function eraForLastTest(lastTest: number): KmodShEra {
  if (lastTest >= 12) return 'v5.8';
  if (lastTest >= 10) return 'v5.7';
  return 'v4.13';
}

export function isEra(s: string): s is KmodShEra {
  return (KMOD_SH_ERAS as readonly string[]).includes(s);
}
