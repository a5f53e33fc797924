/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the whole generator pipeline on untrusted input: TOML parser, service
 * model and validation, unit generation. Beyond "does not crash or leak", it checks what the
 * generator promises: a definition is either rejected with one-line diagnostics, or turned into
 * unit files in which every line is a comment, a section header or "Key=value" (no input can
 * inject a line, a section or a NUL byte), for an old and a new systemd alike.
 */
#include <assert.h>
#include <ctype.h>
#include <string.h>

#include "diag.h"
#include "service.h"
#include "toml.h"
#include "unit-gen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_diags(const ks_diag_list *l) {
        for (size_t i = 0; i < l->n; i++) {
                assert(l->items[i].text);
                assert(!strchr(l->items[i].text, '\n'));
        }
}

static void check_unit_text(const char *text, size_t size) {
        assert(memchr(text, '\0', size) == NULL);
        assert(size > 0 && text[size - 1] == '\n');
        for (const char *p = text, *end = text + size; p < end;) {
                const char *nl = memchr(p, '\n', end - p);
                assert(nl);
                if (nl > p && *p != '#') {
                        if (*p == '[')
                                assert(nl[-1] == ']');
                        else {
                                const char *eq = memchr(p, '=', nl - p);
                                assert(eq && eq > p);
                                for (const char *k = p; k < eq; k++)
                                        assert(isalnum((unsigned char) *k));
                        }
                }
                p = nl + 1;
        }
}

static void generate(const ks_service *s, unsigned version) {
        _cleanup_diag_list_ ks_diag_list diags = {}, notices = {};
        ks_unit_gen_options o = { .systemd_version = version };
        ks_unit_files files = {};

        int r = ks_unit_gen(s, &o, &files, &diags, &notices);
        check_diags(&diags);
        check_diags(&notices);
        if (r < 0) {
                assert(r == -EINVAL || r == -ENOMEM);
                return;
        }
        for (size_t i = 0; i < files.n; i++) {
                assert(files.items[i].path && !strchr(files.items[i].path, '\n'));
                if (files.items[i].content)
                        check_unit_text(files.items[i].content, files.items[i].size);
        }
        ks_unit_files_done(&files);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(ks_toml_freep) ks_toml_document *doc = NULL;
        _cleanup_(ks_service_freep) ks_service *s = NULL;
        _cleanup_diag_list_ ks_diag_list diags = {};
        ks_toml_error err = {};
        int r;

        if (ks_toml_parse((const char *) data, size, &doc, &err) < 0)
                return 0;
        r = ks_service_load("fuzz", doc, "/etc/kservice/fuzz.toml", &s, &diags);
        check_diags(&diags);
        if (r < 0) {
                assert(r == -EINVAL || r == -ENOMEM);
                assert(r == -ENOMEM || diags.n > 0);
                return 0;
        }
        generate(s, 252);
        generate(s, 257);
        return 0;
}
