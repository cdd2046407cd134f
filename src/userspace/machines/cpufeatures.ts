/**
 * DOC: x86 CPU feature numbers, as the kernel numbers them (word·32 + bit, arch/x86's
 * cpufeatures.h), under the names /proc/cpuinfo shows.
 *
 * Why: the cpu modalias lists feature *numbers*, and the x86cpu aliases modules declare match
 * numbers (kvm_intel `*0085*` = vmx, aesni_intel `*0099*` = aes, ...). Profiles name features as
 * /proc/cpuinfo does so they stay readable; a number (or "0x85") is accepted for anything not
 * listed here. The numbers were checked against modules.alias of Debian 6.1 and a live
 * /sys/devices/system/cpu/modalias.
 */

const W = (word: number, names: (string | undefined)[]): [string, number][] =>
  names.flatMap((n, bit) => (n ? [[n, word * 32 + bit] as [string, number]] : []));

export const CPU_FEATURES: ReadonlyMap<string, number> = new Map<string, number>([
  // word 0: CPUID 1 EDX
  ...W(0, ['fpu', 'vme', 'de', 'pse', 'tsc', 'msr', 'pae', 'mce', 'cx8', 'apic', undefined, 'sep', 'mtrr', 'pge', 'mca', 'cmov',
    'pat', 'pse36', 'pn', 'clflush', undefined, 'dts', 'acpi', 'mmx', 'fxsr', 'sse', 'sse2', 'ss', 'ht', 'tm', 'ia64', 'pbe']),
  // word 1: CPUID 0x80000001 EDX (sparse)
  ...Object.entries({ syscall: 11, mp: 19, nx: 20, mmxext: 22, fxsr_opt: 25, pdpe1gb: 26, rdtscp: 27, lm: 29, '3dnowext': 30, '3dnow': 31 }).map(
    ([n, bit]): [string, number] => [n, 32 + bit],
  ),
  // word 3: Linux-defined (synthetic) flags
  ...W(3, ['cxmmx', 'k6_mtrr', 'cyrix_arr', 'centaur_mcr', 'k8', 'k7', 'p3', 'p4', 'constant_tsc', 'up', 'art', 'arch_perfmon', 'pebs', 'bts',
    'syscall32', 'sysenter32', 'rep_good', undefined, undefined, undefined, 'nopl', 'always', 'xtopology', 'tsc_reliable', 'nonstop_tsc', 'cpuid',
    'extd_apicid', 'amd_dcm', 'aperfmperf', 'rapl', 'nonstop_tsc_s3', 'tsc_known_freq']),
  // word 4: CPUID 1 ECX
  ...W(4, ['pni', 'pclmulqdq', 'dtes64', 'monitor', 'ds_cpl', 'vmx', 'smx', 'est', 'tm2', 'ssse3', 'cid', 'sdbg', 'fma', 'cx16', 'xtpr', 'pdcm',
    undefined, 'pcid', 'dca', 'sse4_1', 'sse4_2', 'x2apic', 'movbe', 'popcnt', 'tsc_deadline_timer', 'aes', 'xsave', 'osxsave', 'avx', 'f16c',
    'rdrand', 'hypervisor']),
  // word 5: VIA/Centaur
  ...W(5, [undefined, undefined, 'rng', 'rng_en', undefined, undefined, 'ace', 'ace_en', 'ace2', 'ace2_en', 'phe', 'phe_en', 'pmm', 'pmm_en']),
  // word 6: CPUID 0x80000001 ECX
  ...W(6, ['lahf_lm', 'cmp_legacy', 'svm', 'extapic', 'cr8_legacy', 'abm', 'sse4a', 'misalignsse', '3dnowprefetch', 'osvw', 'ibs', 'xop',
    'skinit', 'wdt', undefined, 'lwp', 'fma4', 'tce', undefined, 'nodeid_msr', undefined, 'tbm', 'topoext', 'perfctr_core', 'perfctr_nb',
    undefined, 'bpext', 'ptsc', 'perfctr_llc', 'mwaitx']),
  // word 7: auxiliary (synthetic)
  ...W(7, ['ring3mwait', 'cpuid_fault', 'cpb', 'epb', 'cat_l3', 'cat_l2', 'cdp_l3', 'invpcid_single', 'hw_pstate', 'proc_feedback']),
  // word 8: virtualization (synthetic)
  ...W(8, ['tpr_shadow', 'vnmi', 'flexpriority', 'ept', 'vpid', undefined, undefined, undefined, undefined, undefined, undefined, undefined,
    undefined, undefined, undefined, 'vmmcall', 'xenpv', 'ept_ad', 'vmcall', 'vmw_vmmcall', 'pvunlock', 'vcpupreempt', 'tdx_guest']),
  // word 9: CPUID 7 EBX
  ...W(9, ['fsgsbase', 'tsc_adjust', 'sgx', 'bmi1', 'hle', 'avx2', undefined, 'smep', 'bmi2', 'erms', 'invpcid', 'rtm', 'cqm', undefined, 'mpx',
    'rdt_a', 'avx512f', 'avx512dq', 'rdseed', 'adx', 'smap', 'avx512ifma', undefined, 'clflushopt', 'clwb', 'intel_pt', 'avx512pf', 'avx512er',
    'avx512cd', 'sha_ni', 'avx512bw', 'avx512vl']),
  // word 10: CPUID 0xd.1 EAX
  ...W(10, ['xsaveopt', 'xsavec', 'xgetbv1', 'xsaves']),
  // word 12: CPUID 7.1 EAX
  ...W(12, [undefined, undefined, undefined, undefined, 'avx_vnni', 'avx512_bf16']),
  // word 14: thermal and power (CPUID 6 EAX)
  ...W(14, ['dtherm', 'ida', 'arat', undefined, 'pln', undefined, 'pts', 'hwp', 'hwp_notify', 'hwp_act_window', 'hwp_epp', 'hwp_pkg_req']),
  // word 15: AMD SVM (CPUID 0x8000000a EDX)
  ...W(15, ['npt', 'lbrv', 'svm_lock', 'nrip_save', 'tsc_scale', 'vmcb_clean', 'flushbyasid', 'decodeassists', undefined, undefined,
    'pausefilter', undefined, 'pfthreshold', 'avic', undefined, 'v_vmsave_vmload', 'vgif']),
  // word 16: CPUID 7 ECX
  ...W(16, [undefined, 'avx512vbmi', 'umip', 'pku', 'ospke', 'waitpkg', 'avx512_vbmi2', undefined, 'gfni', 'vaes', 'vpclmulqdq', 'avx512_vnni',
    'avx512_bitalg', 'tme', 'avx512_vpopcntdq', undefined, 'la57', undefined, undefined, undefined, undefined, undefined, 'rdpid', undefined,
    'bus_lock_detect', 'cldemote', undefined, 'movdiri', 'movdir64b', 'enqcmd', 'sgx_lc']),
  // word 18: CPUID 7 EDX
  ...W(18, [undefined, undefined, 'avx512_4vnniw', 'avx512_4fmaps', 'fsrm', undefined, undefined, undefined, 'avx512_vp2intersect', 'srbds_ctrl',
    'md_clear', 'rtm_always_abort', undefined, 'tsx_force_abort', 'serialize', 'hybrid_cpu', 'tsxldtrk', undefined, 'pconfig', 'arch_lbr', 'ibt',
    undefined, 'amx_bf16', 'avx512_fp16', 'amx_tile', 'amx_int8', 'spec_ctrl', 'intel_stibp', 'flush_l1d', 'arch_capabilities',
    'core_capabilities', 'spec_ctrl_ssbd']),
]);

/** A profile's feature entry → the kernel's feature number; undefined if unknown. */
export function featureNumber(f: string | number): number | undefined {
  if (typeof f === 'number') return Number.isInteger(f) && f >= 0 && f < 0x10000 ? f : undefined;
  const known = CPU_FEATURES.get(f);
  if (known !== undefined) return known;
  if (/^0x[0-9a-f]{1,4}$/i.test(f)) return parseInt(f, 16);
  return undefined;
}
