/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An order-independent fingerprint of a parsed TOML document, computed the same way over our
 * tree (C) and toml++'s (C++): the sum over every node of a hash of (path, type, value). Equal
 * fingerprints mean both parsers saw the same data, so the benchmark cannot time a parser that
 * silently skips or mangles part of the input. Shared by C and C++, hence header-only.
 */
#pragma once

#include <stdint.h>
#include <string.h>

enum {
        TH_STRING, TH_INTEGER, TH_FLOAT, TH_BOOL, TH_DATETIME, TH_DATETIME_LOCAL, TH_DATE, TH_TIME,
        TH_ARRAY, TH_TABLE,
};

static inline uint64_t th_bytes(uint64_t h, const void *p, size_t n) {
        const unsigned char *s = (const unsigned char *) p;
        for (size_t i = 0; i < n; i++)
                h = (h ^ s[i]) * 0x100000001b3ULL; /* FNV-1a */
        return h;
}

static inline uint64_t th_u64(uint64_t h, uint64_t v) {
        return th_bytes(h, &v, sizeof v);
}

/* Path of a table member: parent path, a separator no key byte sequence can fake, the key. */
static inline uint64_t th_key(uint64_t parent, const char *key, size_t len) {
        return th_bytes(th_u64(th_u64(parent, 0x4b4559), len), key, len);
}

static inline uint64_t th_index(uint64_t parent, size_t i) {
        return th_u64(th_u64(parent, 0x494458), i);
}

static inline uint64_t th_float_bits(double d) {
        uint64_t v;
        if (d != d)
                return 0x7ff8000000000000ULL; /* every NaN is the same value for us */
        memcpy(&v, &d, sizeof v);
        return v;
}

static inline uint64_t th_datetime(int year, int month, int day, int hour, int minute, int second,
                                   uint32_t ns, int offset_minutes) {
        uint64_t h = 0xcbf29ce484222325ULL;
        int f[] = { year, month, day, hour, minute, second, (int) ns, offset_minutes };
        return th_bytes(h, f, sizeof f);
}

/* The node's contribution to the fingerprint; value_hash is 0 for containers. */
static inline uint64_t th_node(uint64_t path, int type, uint64_t value_hash) {
        uint64_t h = th_u64(th_u64(path, (uint64_t) type), value_hash);
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 33;
        return h;
}

#define TH_SEED 0xcbf29ce484222325ULL
