/**
 * DOC: human units for the storm's numbers.
 *
 * Waste spans bytes to tens of GiB across a sweep, and times span microseconds to seconds, so the
 * text reports scale each number to a binary unit (the kernel and the upstream discussion speak
 * MiB and GiB) with two decimals. Fixed rules, no locale: output must be byte-identical anywhere.
 */

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** The unit a byte count is best shown in, as [name, divisor]. */
export function byteUnit(bytes: number): [string, number] {
  let i = 0;
  let div = 1;
  while (i < BYTE_UNITS.length - 1 && Math.abs(bytes) >= div * 1024) {
    div *= 1024;
    i++;
  }
  return [BYTE_UNITS[i]!, div];
}

/** 0 B, 1023 B, 1.50 KiB, 226.53 MiB, 13.97 GiB. */
export function formatBytes(bytes: number, unit?: [string, number]): string {
  const [name, div] = unit ?? byteUnit(bytes);
  if (div === 1) return `${Math.round(bytes)} B`;
  return `${(bytes / div).toFixed(2)} ${name}`;
}

/** A min–max pair of byte counts in one unit (the larger one's): "220.10–230.20 MiB". */
export function formatByteRange(min: number, max: number): string {
  const unit = byteUnit(Math.max(Math.abs(min), Math.abs(max)));
  const [name, div] = unit;
  if (div === 1) return `${Math.round(min)}–${Math.round(max)} B`;
  return `${(min / div).toFixed(2)}–${(max / div).toFixed(2)} ${name}`;
}

const TIME_UNITS: [string, number][] = [
  ['s', 1e9],
  ['ms', 1e6],
  ['µs', 1e3],
];

function timeUnit(ns: number): [string, number] {
  for (const u of TIME_UNITS) if (Math.abs(ns) >= u[1]) return u;
  return ['ns', 1];
}

/** 850 ns, 12.30 µs, 4.56 ms, 1.23 s. */
export function formatNs(ns: number): string {
  const [name, div] = timeUnit(ns);
  if (div === 1) return `${Math.round(ns)} ns`;
  return `${(ns / div).toFixed(2)} ${name}`;
}

export function formatNsRange(min: number, max: number): string {
  const [name, div] = timeUnit(Math.max(Math.abs(min), Math.abs(max)));
  if (div === 1) return `${Math.round(min)}–${Math.round(max)} ns`;
  return `${(min / div).toFixed(2)}–${(max / div).toFixed(2)} ${name}`;
}

/** A count; a median of an even number of runs may be a half. */
export function formatCount(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

export function formatCountRange(min: number, max: number): string {
  return `${formatCount(min)}–${formatCount(max)}`;
}
