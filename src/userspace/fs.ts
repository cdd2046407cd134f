/**
 * DOC: the simulated file system userspace and the kernel share: module files and executables.
 *
 * Why it exists: the kernel's idempotent finit_module (v6.5+, spec §5.7) keys on the *inode* of
 * the opened file, so which path a loader opened matters — a hard link is the same inode, a copy
 * is a new one — and the usermode helper's exec of /proc/sys/kernel/modprobe must fail with
 * -ENOENT when nothing is at that path (kmod.sh 0010). So the model needs a file system with
 * inode identity, symlinks and executables, but nothing else (no data, permissions or mounts).
 *
 * A module tree (/lib/modules/<release>/ with thousands of files) is added lazily: inode numbers
 * are fixed up front by the module set's order, the KFile objects are made on first open.
 */
import type { KFile, ModuleImage } from '../kernel/api.js';
import { EACCES, ENOENT } from '../kernel/errno.js';
import type { Compression, ModuleInfo } from './moduleset.js';
import type { Proc } from '../sim/index.js';

/** A program an exec starts: gets argv/envp, returns the raw wait(2) status (exit c → c << 8). */
export type Program = (argv: readonly string[], envp: readonly string[]) => Proc<number>;

interface FileNode {
  kind: 'file';
  inode: number;
  size: number;
  compression: Compression;
  compressionWindow?: number;
  image: ModuleImage;
}
interface ExecNode {
  kind: 'exec';
  inode: number;
  program: Program;
  /** false models a file without the x bit (exec → -EACCES) */
  executable: boolean;
}
interface LinkNode {
  kind: 'symlink';
  target: string;
}
/** a module file of a lazily added tree, not yet materialised */
interface LazyNode {
  kind: 'lazy';
  inode: number;
  info: ModuleInfo;
  imageFor: (info: ModuleInfo) => ModuleImage;
}
type Node = FileNode | ExecNode | LinkNode | LazyNode;

/** ELOOP (x86): errno.ts does not list it, the loader never returns it */
const ELOOP = 40;
/** The symlink depth Linux allows (MAXSYMLINKS) */
const MAX_SYMLINKS = 40;

export function joinPath(dir: string, rel: string): string {
  if (rel.startsWith('/')) return rel;
  return dir.endsWith('/') ? dir + rel : `${dir}/${rel}`;
}

export class ModuleFs {
  private nodes = new Map<string, Node>();
  private nextInode = 1000;

  /** a new inode number (also for trees: they reserve a contiguous range) */
  private allocInodes(n: number): number {
    const first = this.nextInode;
    this.nextInode += n;
    return first;
  }

  /** Create a regular module file at `path` with a fresh inode (replaces what was there). */
  addModuleFile(path: string, f: { size: number; compression: Compression; compressionWindow?: number; image: ModuleImage }): KFile {
    const node: FileNode = { kind: 'file', inode: this.allocInodes(1), size: f.size, compression: f.compression, ...(f.compressionWindow !== undefined ? { compressionWindow: f.compressionWindow } : {}), image: f.image };
    this.nodes.set(path, node);
    return toKFile(path, node);
  }

  /**
   * Add every module of a set under `root` (/lib/modules/<release>): inode numbers follow the
   * set's order, the images are made on first open by `imageFor`.
   */
  addModuleTree(root: string, modules: Iterable<ModuleInfo>, imageFor: (info: ModuleInfo) => ModuleImage): void {
    const list = [...modules];
    const first = this.allocInodes(list.length);
    list.forEach((info, i) => this.nodes.set(joinPath(root, info.path), { kind: 'lazy', inode: first + i, info, imageFor }));
  }

  /** Reserve `count` consecutive inode numbers for a module tree added in parts (addModulesAt); returns the first. */
  reserveInodes(count: number): number {
    return this.allocInodes(count);
  }

  /**
   * Add some modules of a tree whose inodes were reserved from `first`: modules[i] gets inode
   * first + positions[i], its position in the set's order — the inode addModuleTree gives it, so
   * a tree added in parts (a module slice's files, then the rest) numbers its files the same.
   */
  addModulesAt(root: string, first: number, modules: readonly ModuleInfo[], positions: readonly number[], imageFor: (info: ModuleInfo) => ModuleImage): void {
    for (let i = 0; i < modules.length; i++) {
      const info = modules[i]!;
      this.nodes.set(joinPath(root, info.path), { kind: 'lazy', inode: first + positions[i]!, info, imageFor });
    }
  }

  /** Install an executable (a simulated program) at `path`. */
  addProgram(path: string, program: Program, opts: { executable?: boolean } = {}): void {
    this.nodes.set(path, { kind: 'exec', inode: this.allocInodes(1), program, executable: opts.executable ?? true });
  }

  symlink(target: string, path: string): void {
    this.nodes.set(path, { kind: 'symlink', target });
  }

  /** link(2): a second name for the same inode. */
  link(existing: string, newPath: string): number {
    const r = this.resolve(existing);
    if (typeof r === 'number') return r;
    this.nodes.set(newPath, r.node);
    return 0;
  }

  /** cp: same content, new inode. */
  copy(src: string, dst: string): number {
    const r = this.resolve(src);
    if (typeof r === 'number') return r;
    const n = r.node;
    const inode = this.allocInodes(1);
    this.nodes.set(dst, n.kind === 'file' ? { ...n, inode } : { ...n, inode });
    return 0;
  }

  unlink(path: string): number {
    return this.nodes.delete(path) ? 0 : -ENOENT;
  }

  exists(path: string): boolean {
    return typeof this.resolve(path) !== 'number';
  }

  /** open(2) of a module file for reading: the KFile (fresh object per open, shared inode) or -errno. */
  open(path: string): KFile | number {
    // a module file that is already materialised, by its own name: the common case, looked up once
    const n = this.nodes.get(path);
    if (n !== undefined && n.kind === 'file' && path !== '') return toKFile(path, n);
    const r = this.resolve(path);
    if (typeof r === 'number') return r;
    if (r.node.kind !== 'file') return -EACCES;
    return toKFile(path, r.node);
  }

  /** what execve(2) would find at `path`: the program, or -ENOENT / -EACCES */
  execTarget(path: string): Program | number {
    const r = this.resolve(path);
    if (typeof r === 'number') return r;
    if (r.node.kind !== 'exec' || !r.node.executable) return -EACCES;
    return r.node.program;
  }

  /** inode number at `path` (following symlinks), or -errno */
  inodeOf(path: string): number {
    const r = this.resolve(path);
    return typeof r === 'number' ? r : r.node.inode;
  }

  private resolve(path: string): { path: string; node: FileNode | ExecNode } | number {
    let p = path;
    for (let depth = 0; depth <= MAX_SYMLINKS; depth++) {
      const n = this.nodes.get(p);
      if (n === undefined || p === '') return -ENOENT;
      if (n.kind === 'symlink') {
        p = n.target.startsWith('/') ? n.target : joinPath(p.slice(0, p.lastIndexOf('/')) || '/', n.target);
        continue;
      }
      if (n.kind === 'lazy') {
        const w = n.info.compressionWindow;
        const file: FileNode = { kind: 'file', inode: n.inode, size: n.info.fileSize, compression: n.info.compression, ...(w !== undefined ? { compressionWindow: w } : {}), image: n.imageFor(n.info) };
        // every name of this lazy node (it has one until someone links it) becomes the real file
        this.nodes.set(p, file);
        return { path: p, node: file };
      }
      return { path: p, node: n };
    }
    return -ELOOP;
  }
}

function toKFile(path: string, n: FileNode): KFile {
  // two literals rather than a spread: a udev worker opens a module file for every load
  if (n.compressionWindow === undefined) return { path, inode: n.inode, size: n.size, compression: n.compression, image: n.image };
  return { path, inode: n.inode, size: n.size, compression: n.compression, compressionWindow: n.compressionWindow, image: n.image };
}
