/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CRC-32 (IEEE 802.3, as zlib's crc32() and cksum -a crc32b): a checksum that catches every burst
 * of errors up to 32 bits long, for files that must tell a torn or flipped byte from their content. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The CRC-32 of n bytes at p, continuing from crc (0 to start). crc32_ieee(0, "123456789", 9) is
 * 0xcbf43926. */
uint32_t crc32_ieee(uint32_t crc, const void *p, size_t n);
