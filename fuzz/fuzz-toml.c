/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the TOML parser. Beyond "does not crash", it checks invariants every parsed
 * document must hold: each key is found again by lookup (hash index and linear path agree), every
 * string is NUL-terminated where its length says, positions are set, and errors carry a position.
 */
#include <assert.h>

#include "toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const ks_toml_value *v, unsigned depth) {
        assert(depth <= KS_TOML_MAX_DEPTH + 1);
        assert(v->line >= 1 && v->column >= 1);
        switch (v->type) {
        case KS_TOML_TABLE:
                for (size_t i = 0; i < v->table.n; i++) {
                        const ks_toml_keyval *kv = &v->table.items[i];
                        assert(kv->key[kv->key_len] == '\0');
                        assert(ks_toml_table_getn(v, kv->key, kv->key_len) == kv->value);
                        assert(kv->line >= 1 && kv->column >= 1);
                        walk(kv->value, depth + 1);
                }
                break;
        case KS_TOML_ARRAY:
                for (size_t i = 0; i < v->array.n; i++)
                        walk(v->array.items[i], depth + 1);
                break;
        case KS_TOML_STRING:
                assert(v->string.str[v->string.len] == '\0');
                break;
        default:
                break;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        ks_toml_document *doc = NULL;
        ks_toml_error err = {};
        int r;

        r = ks_toml_parse((const char *) data, size, &doc, &err);
        if (r < 0) {
                assert(r == -EINVAL || r == -ENOMEM);
                assert(doc == NULL);
                assert(r != -EINVAL || (err.line >= 1 && err.column >= 1 && err.message[0]));
                return 0;
        }
        walk(ks_toml_root(doc), 0);
        ks_toml_free(doc);
        return 0;
}
