/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * DOC: kmodlab guest-agent framing, shared by kml-agent.c (guest side).
 *
 * The host and the guest talk over a serial line that may carry anything else too (kernel
 * printk if the console is ever pointed at it, line noise, a half-written frame from a guest
 * that died). So every message is a frame that can be found and checked in any byte stream:
 *
 *   "@@KML1 <kind> <id> <len> <crc32 hex8>\n" <len payload bytes> "\n"
 *
 * kind is one letter (Q request, R response, H hello), id a decimal request id, crc32 the IEEE
 * CRC-32 of the payload. The payload is a list of netstrings ("<len>:<bytes>,"), binary safe.
 * A reader scans for the magic, skips anything that does not parse or check, and resynchronises
 * on the next magic. The TypeScript side is src/targets/qemu/protocol.ts.
 */
#ifndef KML_FRAME_H
#define KML_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define KML_MAGIC "@@KML1 "
#define KML_MAX_PAYLOAD (64u << 20)

static uint32_t kml_crc_table[256];

static void kml_crc_init(void)
{
	for (uint32_t n = 0; n < 256; n++) {
		uint32_t c = n;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		kml_crc_table[n] = c;
	}
}

static uint32_t kml_crc32(const unsigned char *p, size_t len)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < len; i++)
		c = kml_crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

#endif
