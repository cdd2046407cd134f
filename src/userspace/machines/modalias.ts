/**
 * DOC: the modalias every CPU's "add" uevent carries (CONFIG_GENERIC_CPU_AUTOPROBE).
 *
 * On x86 the kernel prints `cpu:type:x86,venVVVVfamFFFFmodMMMM:feature:` followed by `,XXXX` for
 * every feature bit set, ascending, each a 4-digit upper-case hex number. Modules match it with
 * aliases such as `cpu:type:x86,ven*fam*mod*:feature:*0085*` (kvm_intel: vmx).
 */
import { featureNumber } from './cpufeatures.js';
import { X86_VENDORS, type MachineProfile } from './schema.js';

const hex4 = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');

export function cpuFeatureNumbers(cpu: MachineProfile['cpu']): number[] {
  const set = new Set<number>();
  for (const f of cpu.features) {
    const n = featureNumber(f);
    if (n !== undefined) set.add(n);
  }
  return [...set].sort((a, b) => a - b);
}

export function cpuModalias(cpu: MachineProfile['cpu']): string {
  if (cpu.modalias) return cpu.modalias;
  const feats = cpuFeatureNumbers(cpu)
    .map((n) => `,${hex4(n)}`)
    .join('');
  return `cpu:type:x86,ven${hex4(X86_VENDORS[cpu.vendor])}fam${hex4(cpu.family)}mod${hex4(cpu.model)}:feature:${feats}`;
}

export interface ParsedCpuModalias {
  vendor: number;
  family: number;
  model: number;
  features: number[];
}

/** The inverse, for `machines capture`; undefined if the string is not an x86 cpu modalias. */
export function parseCpuModalias(s: string): ParsedCpuModalias | undefined {
  const m = /^cpu:type:x86,ven([0-9A-F]{4})fam([0-9A-F]{4})mod([0-9A-F]{4}):feature:((?:,[0-9A-F]{4})*)$/.exec(s.trim());
  if (!m) return undefined;
  return {
    vendor: parseInt(m[1]!, 16),
    family: parseInt(m[2]!, 16),
    model: parseInt(m[3]!, 16),
    features: m[4]!.split(',').filter((x) => x !== '').map((x) => parseInt(x, 16)),
  };
}
