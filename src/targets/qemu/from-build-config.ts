/**
 * DOC: what a kernel build's .config must have for `kernel prepare --from-build`, checked before
 * anything is installed or booted.
 *
 * A Debian kernel is known to boot our initramfs; a user's build is not, so the check says up
 * front, in one line, what is missing instead of letting the guest hang on a console that is
 * not there. Three kinds of option:
 *  - required: without it the guest cannot boot our initramfs, reach the agent on ttyS1, load or
 *    remove modules, or run the storms (xfs as a module) — prepare stops with exit 2;
 *  - the selftest's own config fragment (tools/testing/selftests/kmod/config: TEST_KMOD,
 *    TEST_LKM, XFS_FS, BTRFS_FS, TUN): what it lacks is stated, and test_kmod / test_module are
 *    built out of tree from the tree's lib/ when the build did not make them;
 *  - facts the record keeps: how modules_install compresses modules and whether the kernel can
 *    decompress them itself (the sim model's snapshot and compression follow from them).
 * The guest needs no tracing option: it reads /proc, sysfs and the test_kmod knobs only.
 */

/** CONFIG_X → "y", "m", or a string/number value; "n" for `# CONFIG_X is not set`. */
export type KernelConfig = Map<string, string>;

/** Parse a .config (Kconfig's output format). Names keep their CONFIG_ prefix. */
export function parseKernelConfig(text: string): KernelConfig {
  const cfg: KernelConfig = new Map();
  for (const line of text.split('\n')) {
    const set = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(line);
    if (set) {
      cfg.set(set[1]!, set[2]!.replace(/^"(.*)"$/, '$1'));
      continue;
    }
    const unset = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/.exec(line);
    if (unset) cfg.set(unset[1]!, 'n');
  }
  return cfg;
}

function value(cfg: KernelConfig, name: string): string {
  return cfg.get(name) ?? 'n';
}

/** An option the guest cannot do without, and why (for the one-line message). */
interface Requirement {
  option: string;
  /** the values that satisfy it */
  want: readonly string[];
  why: string;
}

const BUILT_IN = ['y'] as const;

/** What the boot, the agent and the loader need (boot.ts, scripts/kernel/init, kml-agent.c). */
const REQUIRED: readonly Requirement[] = [
  { option: 'CONFIG_64BIT', want: BUILT_IN, why: 'the guest agent is a static x86_64 binary' },
  { option: 'CONFIG_X86_64', want: BUILT_IN, why: 'QEMU boots arch/x86/boot/bzImage on qemu-system-x86_64' },
  { option: 'CONFIG_MODULES', want: BUILT_IN, why: 'the tests load modules' },
  { option: 'CONFIG_MODULE_UNLOAD', want: BUILT_IN, why: 'kmod.sh and the storms remove modules (rmmod)' },
  { option: 'CONFIG_BLK_DEV_INITRD', want: BUILT_IN, why: 'the guest runs from an initramfs' },
  { option: 'CONFIG_RD_GZIP', want: BUILT_IN, why: 'the initramfs is gzip-compressed' },
  { option: 'CONFIG_BINFMT_ELF', want: BUILT_IN, why: 'the guest runs ELF binaries' },
  { option: 'CONFIG_BINFMT_SCRIPT', want: BUILT_IN, why: '/init is a shell script' },
  { option: 'CONFIG_PROC_FS', want: BUILT_IN, why: 'the tests read /proc/modules and write /proc/sys/kernel/modprobe' },
  { option: 'CONFIG_SYSFS', want: BUILT_IN, why: "test_kmod's knobs are in sysfs" },
  { option: 'CONFIG_DEVTMPFS', want: BUILT_IN, why: '/init finds /dev/ttyS1 (the agent channel) in devtmpfs' },
  { option: 'CONFIG_TMPFS', want: BUILT_IN, why: '/init mounts /tmp as tmpfs' },
  { option: 'CONFIG_FUTEX', want: BUILT_IN, why: 'the storm helper runs its loads on threads' },
  { option: 'CONFIG_SERIAL_8250', want: BUILT_IN, why: 'the console and the agent channel are 16550 serial ports' },
  { option: 'CONFIG_SERIAL_8250_CONSOLE', want: BUILT_IN, why: 'the kernel log is read from the console on ttyS0' },
  { option: 'CONFIG_XFS_FS', want: ['m'], why: "kmod.sh's get_fs_type tests and the storms load xfs as a module" },
];

/** The selftest's config fragment (tools/testing/selftests/kmod/config), all as modules. */
export const SELFTEST_FRAGMENT = ['CONFIG_TEST_KMOD', 'CONFIG_TEST_LKM', 'CONFIG_XFS_FS', 'CONFIG_BTRFS_FS', 'CONFIG_TUN'] as const;

/** Where test_kmod.ko or test_module.ko comes from. */
export type TestModuleSource = 'tree' | 'out-of-tree';

export interface ConfigCheck {
  /** required options that are missing, one phrase each ("CONFIG_X is not set (why)") */
  errors: string[];
  /** options of the selftest's fragment the build lacks (not =m) */
  lacking: string[];
  /** test_kmod.ko: built by the tree (CONFIG_TEST_KMOD=m) or to build from its lib/test_kmod.c */
  testKmod: TestModuleSource;
  /** test_module.ko: CONFIG_TEST_LKM=m, else out of tree from lib/test_module.c */
  testModule: TestModuleSource;
  /** CONFIG_MODULE_COMPRESS_*: what modules_install writes (.ko.xz, .ko.gz, .ko.zst) */
  moduleCompression: 'xz' | 'gzip' | 'zstd' | null;
  /** CONFIG_MODULE_DECOMPRESS: the kernel decompresses (finit_module's compressed-file flag) */
  inKernelDecompress: boolean;
  /** what works but not as a Debian kernel would (said on stderr, kept in the record) */
  notes: string[];
}

function describeValue(v: string): string {
  return v === 'n' ? ' is not set' : `=${v}`;
}

/** Check a parsed .config against what the guest and the tests need. */
export function checkKernelConfig(cfg: KernelConfig): ConfigCheck {
  const errors: string[] = [];
  for (const r of REQUIRED) {
    const v = value(cfg, r.option);
    if (!r.want.includes(v)) errors.push(`${r.option}${describeValue(v)}, want ${r.want.map((w) => `=${w}`).join(' or ')} (${r.why})`);
  }
  // Our test modules are built out of tree and unsigned: a kernel that insists on signatures
  // refuses them (and Debian's 6.1 taint expectations assume an unsigned out-of-tree load).
  if (value(cfg, 'CONFIG_MODULE_SIG_FORCE') === 'y')
    errors.push('CONFIG_MODULE_SIG_FORCE=y, want it unset (the out-of-tree test modules are unsigned)');
  // Built in, test_kmod and test_module could never be removed, and kmod.sh would find
  // test_kmod0 already there: the selftest needs them as modules or not at all.
  for (const o of ['CONFIG_TEST_KMOD', 'CONFIG_TEST_LKM'])
    if (value(cfg, o) === 'y') errors.push(`${o}=y, want =m or unset (built in, the selftest cannot load or remove it)`);
  const lacking = SELFTEST_FRAGMENT.filter((o) => value(cfg, o) !== 'm');
  const compression = value(cfg, 'CONFIG_MODULE_COMPRESS_XZ') === 'y' ? 'xz'
    : value(cfg, 'CONFIG_MODULE_COMPRESS_GZIP') === 'y' ? 'gzip'
      : value(cfg, 'CONFIG_MODULE_COMPRESS_ZSTD') === 'y' ? 'zstd' : null;
  return {
    errors,
    lacking,
    testKmod: value(cfg, 'CONFIG_TEST_KMOD') === 'm' ? 'tree' : 'out-of-tree',
    testModule: value(cfg, 'CONFIG_TEST_LKM') === 'm' ? 'tree' : 'out-of-tree',
    moduleCompression: compression,
    inKernelDecompress: value(cfg, 'CONFIG_MODULE_DECOMPRESS') === 'y',
    // measured (data/calibration/from-build-6.1.176.md): without ACPI the kernel takes its CPUs
    // from QEMU's MP table, which lists one, so --cpus N would run on one CPU
    notes: value(cfg, 'CONFIG_ACPI') === 'y' ? [] : ["CONFIG_ACPI is not set: the guest will see one CPU whatever --cpus says (QEMU's MP table lists one)"],
  };
}

/** The one line that says what the selftest's config fragment wants and the build lacks. */
export function lackingLine(check: ConfigCheck): string | null {
  if (check.lacking.length === 0) return null;
  const how = (o: string) =>
    o === 'CONFIG_TEST_KMOD' ? 'test_kmod built out of tree from lib/test_kmod.c'
      : o === 'CONFIG_TEST_LKM' ? 'test_module built out of tree from lib/test_module.c'
        : o === 'CONFIG_XFS_FS' ? 'required'
          : 'not used by the tests kmodlab runs';
  return `the selftest's config fragment wants ${check.lacking.map((o) => `${o}=m (${how(o)})`).join(', ')}; this build lacks ${check.lacking.length === 1 ? 'it' : 'them'}`;
}

/** The line that says which test modules are the tree's own (null when neither is). */
export function treeModulesLine(check: ConfigCheck): string | null {
  const own = ([['test_kmod', check.testKmod, 'CONFIG_TEST_KMOD'], ['test_module', check.testModule, 'CONFIG_TEST_LKM']] as const)
    .filter(([, src]) => src === 'tree');
  if (own.length === 0) return null;
  return `${own.map(([m]) => `${m}.ko`).join(' and ')}: the tree's own (${own.map(([, , o]) => `${o}=m`).join(', ')}), as installed by the build`;
}
