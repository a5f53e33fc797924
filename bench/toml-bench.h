/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The C interface of the toml++ side of the TOML benchmark (toml-pp.cpp). */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Parses len bytes with toml++, returns the parse time (destruction excluded, as for ours) and,
 * when ret_fingerprint is non-NULL, the toml-hash.h fingerprint of the result. */
int bench_tomlpp_parse(const char *buf, size_t len, uint64_t *ret_nsec, uint64_t *ret_fingerprint);

#ifdef __cplusplus
}
#endif
