/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A deterministic generator of a large, realistic TOML 1.0 document for the parser benchmark:
 * the same size argument always yields the same bytes, so runs and machines can be compared.
 */
#pragma once

#include <stddef.h>

/* Generates a document of at least target_bytes (it stops after the block that crosses it).
 * Returns 0 and a malloc()ed, NUL-terminated buffer, or -ENOMEM. */
int bench_toml_generate(size_t target_bytes, char **ret, size_t *ret_len);
