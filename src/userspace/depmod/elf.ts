/**
 * DOC: the allocated sections of a module's ELF image, grouped the way the kernel lays them out.
 *
 * load_module() copies only SHF_ALLOC sections into module memory, sorted into the
 * module_memory types: executable text, read-only data, data made read-only after init
 * (.data..ro_after_init and __jump_table), writable data, and the same three for sections whose
 * names start with ".init" (freed after the init function returns). .modinfo and __versions lose
 * SHF_ALLOC at load time and .data..percpu goes to the per-CPU area instead. .symtab and .strtab
 * feed kallsyms: the whole table goes to the init data, and the symbols that outlive init (named,
 * defined in an allocated non-init section or the per-CPU one — Debian builds with
 * CONFIG_KALLSYMS_ALL, so data symbols count too) are copied once more to the end of the core data,
 * each as its Elf64_Sym, a type byte and its name (spec §5.8). Only the ELF header, the section
 * header table and the symbol and string tables are needed, so for an uncompressed file we read
 * those few byte ranges instead of the whole file (a 4000-module tree reads in about a second). ELF64 little-endian only: the x86-64 modules this tool models.
 * A section header parser is ~80 lines; no maintained npm ELF library fits, so it lives here.
 */
import { InputError } from '../../errors.js';
import type { SectionSizeKey, SectionSizes } from '../moduleset.js';

/** Random access to an image: read(offset, length) must return exactly `length` bytes. */
export interface ByteSource {
  size: number;
  read(offset: number, length: number): Buffer;
}

export function bufferSource(buf: Buffer): ByteSource {
  return { size: buf.length, read: (o, l) => buf.subarray(o, o + l) };
}

const SHF_WRITE = 0x1;
const SHF_ALLOC = 0x2;
const SHF_EXECINSTR = 0x4;
const SHT_SYMTAB = 2;
const SHT_NOBITS = 8;
/** sizeof(Elf64_Sym) */
const SYM_SIZE = 24;
const SHDR_SIZE = 64;
/** an upper bound no real module comes near; guards against absurd e_shnum in corrupt files */
const MAX_SECTIONS = 65_280;

export function emptySections(): SectionSizes {
  return { text: 0, data: 0, rodata: 0, roAfterInit: 0, initText: 0, initData: 0, initRodata: 0, symtab: 0, percpu: 0 };
}

interface Shdr {
  name: number;
  type: number;
  flags: number;
  offset: number;
  size: number;
  link: number;
  align: number;
}

/** True when the image starts with the ELF magic. */
export function isElf(head: Buffer): boolean {
  return head.length >= 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
}

/**
 * Section sizes of an ELF64 LE relocatable image of `imageSize` bytes (signature excluded).
 * Each group's size is laid out as the kernel does: every section aligned to its sh_addralign
 * after the previous one of the same group, in section-table order.
 */
export function readElfSections(src: ByteSource, imageSize: number, file: string): SectionSizes {
  const fail = (what: string, off?: number): never => {
    throw new InputError(`${file}: ${what}${off !== undefined ? ` (byte offset ${off})` : ''}`);
  };
  const need = (off: number, len: number, what: string): Buffer => {
    if (off < 0 || len < 0 || off + len > imageSize) fail(`truncated ELF image: ${what} ends past the image's ${imageSize} bytes`, off);
    return src.read(off, len);
  };
  const eh = need(0, 64, 'ELF header');
  if (!isElf(eh)) fail('not an ELF file (bad magic)', 0);
  if (eh[4] !== 2) fail('not a 64-bit ELF file', 4);
  if (eh[5] !== 1) fail('not a little-endian ELF file', 5);
  if (eh.readUInt16LE(16) !== 1) fail('not a relocatable ELF file (e_type is not ET_REL)', 16);
  const shoff = Number(eh.readBigUInt64LE(0x28));
  const shentsize = eh.readUInt16LE(0x3a);
  const shnum = eh.readUInt16LE(0x3c);
  const shstrndx = eh.readUInt16LE(0x3e);
  if (shentsize !== SHDR_SIZE) fail(`e_shentsize is ${shentsize}, expected ${SHDR_SIZE}`, 0x3a);
  if (shnum === 0 || shnum > MAX_SECTIONS) fail(`e_shnum ${shnum} out of range`, 0x3c);
  if (shstrndx >= shnum) fail(`e_shstrndx ${shstrndx} out of range`, 0x3e);
  const table = need(shoff, shnum * SHDR_SIZE, 'section header table');

  const sh: Shdr[] = [];
  for (let i = 0; i < shnum; i++) {
    const b = i * SHDR_SIZE;
    const size = table.readBigUInt64LE(b + 32);
    const offset = table.readBigUInt64LE(b + 24);
    const align = table.readBigUInt64LE(b + 48);
    const type = table.readUInt32LE(b + 4);
    if (size > BigInt(Number.MAX_SAFE_INTEGER) || offset > BigInt(Number.MAX_SAFE_INTEGER) || align > 1n << 32n)
      fail(`section ${i}: size, offset or alignment out of range`, shoff + b);
    const s: Shdr = {
      name: table.readUInt32LE(b),
      type,
      flags: Number(table.readBigUInt64LE(b + 8) & 0xffffffffn),
      offset: Number(offset),
      size: Number(size),
      link: table.readUInt32LE(b + 40),
      align: Number(align),
    };
    // like the kernel's elf_validity_check: a section's bytes must lie inside the image
    if (i !== 0 && type !== SHT_NOBITS && s.offset + s.size > imageSize)
      fail(`section ${i} (offset ${s.offset}, size ${s.size}) extends past the image`, shoff + b);
    sh.push(s);
  }
  const strSh = sh[shstrndx]!;
  const strtab = need(strSh.offset, strSh.size, 'section name table');
  const nameOf = (s: Shdr, i: number): string => {
    if (s.name >= strtab.length) fail(`section ${i}: name offset ${s.name} outside the section name table`);
    const end = strtab.indexOf(0, s.name);
    if (end < 0) fail(`section ${i}: unterminated name`);
    return strtab.toString('latin1', s.name, end);
  };

  const out = emptySections();
  const place = (key: SectionSizeKey, s: Shdr): void => {
    const a = Math.max(1, s.align);
    out[key] = Math.ceil(out[key] / a) * a + s.size;
  };
  for (let i = 1; i < sh.length; i++) {
    const s = sh[i]!;
    const name = nameOf(s, i);
    if (name === '.symtab' || name === '.strtab') {
      out.symtab += s.size;
      continue;
    }
    if (!(s.flags & SHF_ALLOC)) continue;
    if (name === '.modinfo' || name === '__versions') continue;
    if (name === '.data..percpu') {
      place('percpu', s);
      continue;
    }
    const init = name.startsWith('.init');
    if (s.flags & SHF_EXECINSTR) place(init ? 'initText' : 'text', s);
    else if (!init && (name === '.data..ro_after_init' || name === '__jump_table')) place('roAfterInit', s);
    else if (!(s.flags & SHF_WRITE)) place(init ? 'initRodata' : 'rodata', s);
    else place(init ? 'initData' : 'data', s);
  }
  const symIdx = sh.findIndex((s) => s.type === SHT_SYMTAB);
  if (symIdx > 0) Object.assign(out, kallsymsSizes(sh, symIdx, nameOf, need));
  return out;
}

/**
 * layout_symtab()'s two copies: how many symbols the table has (the init copy keeps one type
 * byte each) and the bytes of the core copy (24 + 1 + name length + 1 per kept symbol; the
 * names are copied one by one, so strings the linker merged count once per symbol).
 */
function kallsymsSizes(
  sh: readonly Shdr[],
  symIdx: number,
  nameOf: (s: Shdr, i: number) => string,
  need: (off: number, len: number, what: string) => Buffer,
): { symbols: number; coreSymtab: number } {
  const symSh = sh[symIdx]!;
  const symbols = Math.floor(symSh.size / SYM_SIZE);
  const strSh = sh[symSh.link];
  if (strSh === undefined) return { symbols, coreSymtab: 0 };
  const syms = need(symSh.offset, symbols * SYM_SIZE, 'symbol table');
  const strs = need(strSh.offset, strSh.size, 'symbol string table');
  // which sections' symbols survive init: allocated after the kernel's own flag changes (.modinfo,
  // __versions lose SHF_ALLOC), not named .init*; the per-CPU section always
  const keeps = sh.map((s, i) => {
    if (i === 0) return false;
    const name = nameOf(s, i);
    if (name === '.data..percpu') return true;
    return (s.flags & SHF_ALLOC) !== 0 && name !== '.modinfo' && name !== '__versions' && !name.startsWith('.init');
  });
  let coreSymtab = 0;
  for (let i = 0; i < symbols; i++) {
    const o = i * SYM_SIZE;
    const stName = syms.readUInt32LE(o);
    const shndx = syms.readUInt16LE(o + 6);
    // entry 0 (the null symbol) is always copied; SHN_UNDEF, SHN_ABS and the other reserved
    // indices are at 0 or >= the section count
    if (i !== 0 && (stName === 0 || shndx === 0 || shndx >= sh.length || !keeps[shndx])) continue;
    let len = 0;
    if (stName < strs.length) {
      const end = strs.indexOf(0, stName);
      len = (end < 0 ? strs.length : end) - stName;
    }
    coreSymtab += SYM_SIZE + 1 + len + 1;
  }
  return { symbols, coreSymtab };
}
