/**
 * scripts/snapshot/tar-stream.ts reads the regular files of a tar stream in memory (how the -dbg
 * snapshot reads Debian's 1 GB package without unpacking it): checked against GNU tar's own
 * output, with a name longer than ustar's 100 bytes and a file that spans many blocks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { readTarFiles } from '../../scripts/snapshot/tar-stream.js';

test('regular files, long names, sizes across blocks; unwanted files skipped', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kmodlab-tar-'));
  try {
    const long = `./usr/lib/debug/lib/modules/6.1.0-50-amd64/kernel/drivers/${'a'.repeat(120)}/long.ko`;
    const files: Record<string, Buffer> = {
      './usr/lib/debug/lib/modules/6.1.0-50-amd64/kernel/fs/xfs/xfs.ko': Buffer.alloc(70_001, 0x5a),
      [long]: Buffer.from('short'),
      './usr/share/doc/README': Buffer.from('not wanted'),
      './empty.ko': Buffer.alloc(0),
    };
    for (const [p, data] of Object.entries(files)) {
      fs.mkdirSync(path.join(dir, path.dirname(p)), { recursive: true });
      fs.writeFileSync(path.join(dir, p), data);
    }
    const tar = execFileSync('tar', ['--format=gnu', '-C', dir, '-cf', '-', '.'], { maxBuffer: 1 << 24 });
    // deliver in odd-sized chunks, as a pipe does
    const chunks: Buffer[] = [];
    for (let i = 0; i < tar.length; i += 777) chunks.push(tar.subarray(i, i + 777));
    const got = new Map<string, Buffer>();
    const n = await readTarFiles(Readable.from(chunks), (p) => p.endsWith('.ko'), (p, d) => got.set(p, d));
    assert.equal(n, 3);
    assert.deepEqual([...got.keys()].sort(), Object.keys(files).filter((p) => p.endsWith('.ko')).sort());
    for (const [p, d] of got) assert.ok(d.equals(files[p]!), p);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
