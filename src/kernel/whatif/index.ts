/**
 * DOC: the what-if policies — unmerged (or reverted) proposals of spec §5.10 as same-name policies.
 *
 * Each proposal is a SameNamePolicy (policy.ts) in a file of its own, so the load path in main.ts
 * carries no trace of ideas the kernel never merged. A preset turns one on with its flag (the
 * whatif-* presets, or a JSON preset setting the flag); which flag means which policy is the table
 * below, in the order the policies nest (outermost first). Each kernel gets its own instances:
 * they keep per-kernel state (inodes in use, attempts in progress).
 */
import type { KernelInternal } from '../internal.js';
import type { SameNamePolicy } from '../policy.js';
import type { KernelFlags } from '../presets.js';
import { exclusiveWriteDeny } from './exclusive-deny.js';
import { kreadDedup } from './kread-dedup.js';
import { mergeSameName } from './merge-same-name.js';

type WhatIfFlag = 'exclusiveWriteDeny' | 'kreadDedup' | 'mergeSameName';

/** preset flag → the policy it turns on; the write-deny is taken before the kread dedup, as it was */
const WHATIFS: readonly { flag: WhatIfFlag; policy: (k: KernelInternal) => SameNamePolicy }[] = [
  { flag: 'exclusiveWriteDeny', policy: exclusiveWriteDeny },
  { flag: 'kreadDedup', policy: kreadDedup },
  { flag: 'mergeSameName', policy: mergeSameName },
];

/** The what-if policies the flags turn on, outermost first, built for kernel `k`. */
export function whatIfPolicies(flags: KernelFlags, k: KernelInternal): SameNamePolicy[] {
  return WHATIFS.filter((w) => flags[w.flag]).map((w) => w.policy(k));
}
