/**
 * DOC: which preset models a kernel of a given version (`kernel prepare --from-build`).
 *
 * A Debian kernel's preset was established by measurement; a tree a user built has only its
 * version (the top Makefile's VERSION.PATCHLEVEL.SUBLEVEL), so the choice goes, in order:
 *  1. the alias table's full stable versions (v6.1.176 → v6.1-stable): a stable series that was
 *     measured to carry a backport at sublevel Z carries it at every later sublevel too (stable
 *     trees take fixes, they do not drop them), so vX.Y.S with S ≥ Z takes that preset;
 *  2. the series itself, a preset or an alias (v6.4, v6.6 → v6.5);
 *  3. the newest era preset (named vX.Y) not newer than the version (as debian-6.12 is v6.11):
 *     a release after the last era preset behaves like it until a preset says otherwise.
 * Below the oldest preset there is no model: an InputError says so. `--preset` overrides all.
 */
import { InputError } from '../errors.js';
import { getPreset, presetAliases, PRESETS } from './presets.js';

export interface KernelVersion {
  major: number;
  minor: number;
  sublevel: number;
}

/** "6.1.176", "6.8.0-rc1", "v5.10" → numbers; null when it does not start with X.Y. */
export function parseKernelVersion(text: string): KernelVersion | null {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(text.trim());
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2]), sublevel: Number(m[3] ?? 0) };
}

function series(v: KernelVersion): number {
  return v.major * 1000 + v.minor;
}

export interface PresetChoice {
  preset: string;
  /** how it was chosen, for the log and prepared.json */
  reason: string;
}

/** The preset that models a kernel of this version (see the DOC comment for the order). */
export function presetForVersion(version: string): PresetChoice {
  const v = parseKernelVersion(version);
  if (v === null) throw new InputError(`kernel version "${version}": not of the form X.Y[.Z]`);
  const label = `${v.major}.${v.minor}.${v.sublevel}`;
  // 1. a measured stable sublevel of the same series, the highest one not above ours
  let stable: { sublevel: number; alias: string; preset: string } | null = null;
  for (const [alias, preset] of Object.entries(presetAliases())) {
    const a = /^v(\d+)\.(\d+)\.(\d+)$/.exec(alias);
    if (!a || Number(a[1]) !== v.major || Number(a[2]) !== v.minor) continue;
    const sub = Number(a[3]);
    if (sub <= v.sublevel && (stable === null || sub > stable.sublevel)) stable = { sublevel: sub, alias, preset };
  }
  if (stable) return { preset: stable.preset, reason: `alias ${stable.alias} → ${stable.preset}, and ${label} is not older` };
  // 2. the series by name
  const seriesName = `v${v.major}.${v.minor}`;
  try {
    const p = getPreset(seriesName);
    return { preset: p.name, reason: `series ${seriesName}` };
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
  }
  // 3. the newest era preset at or below the series
  const eras = PRESETS.map((p) => ({ name: p.name, v: parseKernelVersion(p.name) }))
    .filter((p): p is { name: string; v: KernelVersion } => /^v\d+\.\d+$/.test(p.name) && p.v !== null)
    .sort((a, b) => series(a.v) - series(b.v));
  const below = eras.filter((p) => series(p.v) <= series(v));
  if (below.length === 0) throw new InputError(`kernel ${label}: older than every preset (oldest ${eras[0]?.name}); choose one with --preset`);
  const era = below[below.length - 1]!;
  return { preset: era.name, reason: `era preset ${era.name} (the newest not above ${seriesName})` };
}
