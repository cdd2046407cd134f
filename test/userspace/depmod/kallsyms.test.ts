/**
 * The kallsyms figures the ELF reader takes from a .ko's symbol table (spec §5.8, issue 17 item 2):
 * how many symbols the table has, and the bytes of layout_symtab()'s core copy — the named symbols
 * defined in an allocated section other than .init* (.modinfo and __versions are not allocated at
 * load time), or in .data..percpu; each as an Elf64_Sym, a type byte and its name with the NUL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bufferSource, readElfSections } from '../../../src/userspace/depmod/elf.js';
import { buildKo, DEFAULT_SECTIONS, DEFAULT_KALLSYMS } from '../../fixtures/modules/build-ko.js';

const read = (img: Buffer) => readElfSections(bufferSource(img), img.length, 'x.ko');

test('the default fixture: the null symbol and one core function', () => {
  const s = read(buildKo());
  assert.equal(s.symbols, DEFAULT_KALLSYMS.symbols);
  assert.equal(s.coreSymtab, DEFAULT_KALLSYMS.coreSymtab);
});

test('only symbols that outlive init are copied to the core', () => {
  const img = buildKo(DEFAULT_SECTIONS, [
    { name: 'core_fn', section: '.text' },
    { name: 'init_fn', section: '.init.text' },
    { name: 'init_tbl', section: '.init.data' },
    { name: 'printk', section: null },
    { name: '__UNIQUE_ID_license', section: '.modinfo' },
    { name: '____versions', section: '__versions' },
    { name: 'pcpu_var', section: '.data..percpu' },
    { name: 'data_var', section: '.data' },
    { name: 'ro_var', section: '.data..ro_after_init' },
  ]);
  const s = read(img);
  assert.equal(s.symbols, 10);
  const entry = (name: string) => 24 + 1 + name.length + 1;
  assert.equal(s.coreSymtab, entry('') + entry('core_fn') + entry('pcpu_var') + entry('data_var') + entry('ro_var'));
  // the whole table (and its strings) still counts as the init copy's .symtab + .strtab
  assert.equal(s.symtab, 24 * 10 + Buffer.byteLength('\0core_fn\0init_fn\0init_tbl\0printk\0__UNIQUE_ID_license\0____versions\0pcpu_var\0data_var\0ro_var\0'));
});
