/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What `systemctl status` shows on a checked service's Status: line, from its health tracker. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tracker.h"

/* The short STATUS= line: "healthy; HTTP 200 in 3ms", "unhealthy (2/3); HTTP 500 (expected
 * 2xx) in 4ms", "starting (start period); connection refused"; a flapping service's begins with
 * "flapping, ". Newlines are replaced. */
void ks_status_line(char *buf, size_t size, const ks_tracker *h, bool in_start_period, bool flapping,
                    const char *last_result, uint64_t latency_usec);
