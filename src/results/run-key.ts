/**
 * DOC: the key of a run point — the name a stored record's file has, and how runs are named in
 * messages. Apart from the store (store.ts re-exports it) so that a worker thread, which names
 * runs but stores nothing, does not load the store and write-file-atomic with it.
 */

/** The run a record belongs to, and what its file is keyed by. Extra fields (a worker's options) may ride along. */
export interface RunPoint {
  machine: string;
  cpus: number;
  kernel: string;
  seed: number;
}

/** Percent-encode all but [A-Za-z0-9.-]: `_` never appears inside a field, so names are unique. */
function encodeField(s: string): string {
  return Array.from(Buffer.from(s, 'utf8'))
    .map((b) => {
      const c = String.fromCharCode(b);
      return /[A-Za-z0-9.-]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

/** The stable key of a run point (also its file name without `.json`). */
export function runKey(p: RunPoint): string {
  return `run_${encodeField(p.machine)}_c${p.cpus}_${encodeField(p.kernel)}_s${p.seed}`;
}

export function runFileName(p: RunPoint): string {
  return `${runKey(p)}.json`;
}
