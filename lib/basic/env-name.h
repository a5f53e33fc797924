/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Environment variable names as systemd's Environment= takes them. */
#pragma once

#include <stdbool.h>

/* Letters, digits and "_" (ASCII), at least one, not starting with a digit. */
bool env_name_is_valid(const char *name);
