/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CRC-32 (see crc32.h), bitwise with the reflected polynomial: the files it checks are small. */
#include "crc32.h"

uint32_t crc32_ieee(uint32_t crc, const void *p, size_t n) {
        const uint8_t *b = p;

        crc = ~crc;
        for (size_t i = 0; i < n; i++) {
                crc ^= b[i];
                for (int k = 0; k < 8; k++)
                        crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1u));
        }
        return ~crc;
}
