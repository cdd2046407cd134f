/**
 * DOC: depmod's view of a module tree: readers for /lib/modules/<release>/ and the shipped
 * snapshots. One import point for the modprobe, udevd and kernel models.
 */
export { aliasMatches, lookupAlias, parseModulesAlias } from './alias.js';
export { parseModulesBuiltin, parseModulesOrder } from './builtin.js';
export { parseModulesDep, type DepEntry } from './dep.js';
export { readElfSections, bufferSource, type ByteSource } from './elf.js';
export { koFactsFromBuffer, readKoFile, unsignedLength, MODULE_SIG_STRING, type KoFacts } from './kofile.js';
export { compressionByMagic, decompressModule } from './decompress.js';
export { modNameFromPath, normaliseName, isModulePath } from './names.js';
export { parseModulesSoftdep, type SoftDep } from './softdep.js';
export { readModulesDir, type ReadTreeOptions } from './tree.js';
export {
  loadSnapshot,
  loadModuleSet,
  readSnapshotFile,
  writeSnapshotFile,
  toSnapshotJson,
  fromSnapshotJson,
  DEFAULT_SNAPSHOT,
  SNAPSHOT_NAMES,
  type SnapshotName,
  type LoadModuleSetOptions,
} from './snapshot.js';
export { parseModulesBuiltinModinfo } from './builtin-modinfo.js';
export { parseModulesSymbols } from './symbols.js';
