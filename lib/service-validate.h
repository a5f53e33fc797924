/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Cross-key validation of a definition: what no single key's reader can judge (for service.c). */
#pragma once

#include "diag.h"
#include "service.h"

/* Judges the keys of one [[health.check]] together (that "type" is given, no key of the other
 * type, what each type needs). origins is indexed by key id: where each key of this check was
 * read from (file NULL: not given); chk->origin is where the check starts. Returns -EINVAL when
 * it added diagnostics, -ENOMEM, or 0. */
int ks_check_validate(const ks_check *chk, const ks_origin *origins, ks_diag_list *diags);

/* Judges the combinations of keys of a merged service whose defaults are filled in; positions
 * come from s->key_origin. Returns -EINVAL when it added diagnostics, -ENOMEM, or 0. */
int ks_service_validate(const ks_service *s, ks_diag_list *diags);
