/**
 * DOC: in-kernel module decompression's memory (kernel/module/decompress.c; spec §5.3, §5.8).
 *
 * Why this file exists: a duplicate finit_module of a compressed module with
 * MODULE_INIT_COMPRESSED_FILE (K10, v5.17+; gzip and xz, zstd from v6.2) pays more than its copy
 * of the file. Measured on Debian trixie (6.12, .ko.xz, data/calibration/coldplug-debian-trixie.md):
 * every in-kernel decompression vmallocs 1,052,672 bytes (1 MiB + the guard page) between the
 * kernel_read_file buffer and the module's memory. Checked in the kernel's source (6.1.176's
 * linux-source and torvalds/linux of 2026; the function names are the kernel's):
 *
 *  - module_decompress() first sizes the page-pointer array for twice the compressed page count
 *    (module_extend_max_pages(): kvmalloc_array, kmalloc-sized for modules), then calls the one
 *    decompressor CONFIG_MODULE_COMPRESS_* selects. Each output page is a separate alloc_page()
 *    (module_get_next_page()); after the stream ends, vmap(info->pages, info->used_pages,
 *    VM_MAP, …) maps them into one view, info->hdr. So the decompressed image takes vmalloc
 *    *address space* (a vmap area, one guard page) but its pages are not vmalloc'ed: they are
 *    not in nr_vmalloc_pages, i.e. not in /proc/meminfo's VmallocUsed (only __vmalloc_area_node
 *    adds to it; vmap without VM_MAP_PUT_PAGES does not), and not seen by a kprobe on
 *    __vmalloc_node_range. The pages live as long as any copy of the file: until free_copy()
 *    → module_decompress_cleanup() (vunmap + __free_page each) just before do_init_module, or
 *    on the failure path.
 *  - xz, module_xz_decompress(): xz_dec_init(XZ_DYNALLOC, (u32)-1) — multi-call mode with the
 *    dictionary allocated on demand and no limit. When the LZMA2 properties of the block are
 *    parsed (xz_dec_lzma2_reset()), the dictionary size they name, (2 | (p & 1)) << (p / 2 + 11),
 *    is vmalloc'ed whole — not capped at the module's size — and vfree'd by xz_dec_end() (via
 *    xz_dec_lzma2_end()) when the stream is done, before vmap(). kbuild compresses every module
 *    with `xz --check=crc32 --lzma2=dict=1MiB` (scripts/Makefile.modinst cmd_xz), so 1 MiB per
 *    decompression, whatever the module's size. A failed dictionary vmalloc is XZ_MEM_ERROR,
 *    which module_xz_decompress() reports as "decompression failed with status 3" → -EINVAL.
 *    The decoder's own state (struct xz_dec, struct xz_dec_lzma2: tens of KiB) is kmalloc'ed.
 *  - gzip, module_gzip_decompress(): vmalloc(zlib_inflate_workspacesize()) before inflating,
 *    vfree'd at the end. The workspace is struct inflate_workspace: the inflate_state (9,544
 *    bytes on x86-64: the code tables codes[ENOUGH = 2048], lens[320], work[288] and the
 *    scalars) and the 32 KiB window (1 << MAX_WBITS); 42,312 bytes, 11 pages + guard
 *    (s390's DFLTCC adds a page and its own state; not modelled). Failure → -ENOMEM.
 *  - zstd, module_zstd_decompress(): reads the frame header (zstd_get_frame_header), refuses a
 *    window above 1 << ZSTD_WINDOWLOG_MAX, then vmalloc(zstd_dstream_workspace_bound(window)) =
 *    ZSTD_estimateDStreamSize(window): sizeof(ZSTD_DCtx) + an input block min(window, 128 KiB)
 *    + the output buffer ZSTD_decodingBufferSize_min(window): window + one block + 2 × 32
 *    bytes (lib/zstd 1.5.2, as in 6.1 and the stored torvalds/linux copy; upstream zstd 1.5.5+
 *    reserves a second block, 128 KiB more, not modelled); vfree'd at the end. Failure → -ENOMEM.
 *    sizeof(ZSTD_DCtx) is taken as 95,992 bytes (ZSTD_estimateDCtxSize() of the zstd 1.5.4
 *    library, measured; the kernel's build differs by a few hundred bytes at most). kbuild's
 *    `zstd -T0` (level 3) writes single-segment frames for files up to 2 MiB: the window is the
 *    decompressed size, else 2 MiB (windowLog 21) — checked with zstd 1.5.4 on a 293 KiB and a
 *    4.8 MiB file.
 *
 * Where the stream header is not known (the shipped snapshots keep no header), the window is
 * kbuild's: xz 1 MiB, zstd min(image, 2 MiB). A real tree (`--modules DIR`) reads it from each
 * file (src/userspace/depmod/stream-header.ts).
 */
import type { Compression, KFile } from './api.js';

/** kbuild's `xz --lzma2=dict=1MiB` */
export const KBUILD_XZ_DICT_BYTES = 1 << 20;
/** zstd level 3's largest window (windowLog 21) */
export const KBUILD_ZSTD_MAX_WINDOW_BYTES = 1 << 21;
/** sizeof(struct inflate_workspace) on x86-64 without DFLTCC */
export const ZLIB_INFLATE_WORKSPACE_BYTES = 42_312;
/** sizeof(ZSTD_DCtx): ZSTD_estimateDCtxSize() of zstd 1.5.4 */
export const ZSTD_DCTX_BYTES = 95_992;
/** ZSTD_BLOCKSIZE_MAX */
const ZSTD_BLOCK_MAX = 1 << 17;
/** zstd's WILDCOPY_OVERLENGTH */
const WILDCOPY_OVERLENGTH = 32;

/** The dictionary (xz) or window (zstd) the decompressor will use for this file. */
export function decompressWindow(f: Pick<KFile, 'compression' | 'compressionWindow' | 'image'>): number {
  if (f.compressionWindow !== undefined) return f.compressionWindow;
  if (f.compression === 'xz') return KBUILD_XZ_DICT_BYTES;
  if (f.compression === 'zstd') return Math.min(f.image.imageSize, KBUILD_ZSTD_MAX_WINDOW_BYTES);
  return 0;
}

/** zstd_dstream_workspace_bound(window) (lib/zstd 1.5.2) */
export function zstdWorkspaceBytes(window: number): number {
  const block = Math.min(window, ZSTD_BLOCK_MAX);
  return ZSTD_DCTX_BYTES + block + window + block + 2 * WILDCOPY_OVERLENGTH;
}

/** The bytes the decompressor of `compression` vmallocs for one decompression of `f` (see DOC). */
export function decompressorWorkspaceBytes(compression: Exclude<Compression, 'none'>, f: Pick<KFile, 'compression' | 'compressionWindow' | 'image'>): number {
  switch (compression) {
    case 'gzip':
      return ZLIB_INFLATE_WORKSPACE_BYTES;
    case 'xz':
      return decompressWindow(f);
    case 'zstd':
      return zstdWorkspaceBytes(decompressWindow(f));
  }
}

/** What a failed workspace allocation returns: xz's XZ_MEM_ERROR becomes -EINVAL, the others -ENOMEM. */
export function workspaceFailureIsEinval(compression: Exclude<Compression, 'none'>): boolean {
  return compression === 'xz';
}

/** xz_ret XZ_MEM_ERROR, as module_xz_decompress() prints it */
export const XZ_MEM_ERROR = 3;
