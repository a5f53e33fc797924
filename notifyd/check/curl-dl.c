/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The libcurl symbol table: dlopen() of the soname meson found, dlsym() of each function
 * notifyd calls, curl_global_init once. See curl-dl.h for why notifyd does not link libcurl.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "curl-dl.h"
#include "macro.h"

#ifndef KS_LIBCURL_SONAME
#error "KS_LIBCURL_SONAME must come from config.h (see meson.build)"
#endif

/* The ELF note of systemd's "dlopen() metadata for ELF files" (https://systemd.io/ELF_DLOPEN_METADATA/):
 * a package tool reads from the binary which library it loads at run time, as it reads DT_NEEDED
 * for linked ones ("readelf -p .note.dlopen kservice-notifyd" shows the JSON). */
#define KS_ELF_NOTE_DLOPEN_OWNER "FDO"
#define KS_ELF_NOTE_DLOPEN_TYPE UINT32_C(0x407c0c0a)
#define KS_ELF_NOTE_DLOPEN(name, json)                                                  \
        __attribute__((used, section(".note.dlopen"))) _Alignas(sizeof(uint32_t))     \
        static const struct {                                                           \
                uint32_t n_namesz, n_descsz, n_type;                                    \
                char owner[sizeof(KS_ELF_NOTE_DLOPEN_OWNER)];                           \
                _Alignas(sizeof(uint32_t)) char desc[sizeof(json)];                     \
        } name = {                                                                      \
                .n_namesz = sizeof(KS_ELF_NOTE_DLOPEN_OWNER),                           \
                .n_descsz = sizeof(json),                                               \
                .n_type = KS_ELF_NOTE_DLOPEN_TYPE,                                      \
                .owner = KS_ELF_NOTE_DLOPEN_OWNER,                                      \
                .desc = json,                                                           \
        }

KS_ELF_NOTE_DLOPEN(ks_curl_dl_note,
                   "[{\"feature\":\"curl\","
                   "\"description\":\"HTTPS checks, checks of host names, redirects\","
                   "\"priority\":\"recommended\","
                   "\"soname\":[\"" KS_LIBCURL_SONAME "\"]}]");

#define KS_DLSYM_FUNCTION(name) typeof(name) *sym_##name = NULL

KS_DLSYM_FUNCTION(curl_global_init);
KS_DLSYM_FUNCTION(curl_global_cleanup);
KS_DLSYM_FUNCTION(curl_easy_init);
KS_DLSYM_FUNCTION(curl_easy_cleanup);
KS_DLSYM_FUNCTION(curl_easy_reset);
KS_DLSYM_FUNCTION(curl_easy_setopt);
KS_DLSYM_FUNCTION(curl_easy_getinfo);
KS_DLSYM_FUNCTION(curl_easy_strerror);
KS_DLSYM_FUNCTION(curl_multi_init);
KS_DLSYM_FUNCTION(curl_multi_cleanup);
KS_DLSYM_FUNCTION(curl_multi_setopt);
KS_DLSYM_FUNCTION(curl_multi_add_handle);
KS_DLSYM_FUNCTION(curl_multi_remove_handle);
KS_DLSYM_FUNCTION(curl_multi_socket_action);
KS_DLSYM_FUNCTION(curl_multi_assign);
KS_DLSYM_FUNCTION(curl_multi_info_read);
KS_DLSYM_FUNCTION(curl_slist_append);
KS_DLSYM_FUNCTION(curl_slist_free_all);
KS_DLSYM_FUNCTION(curl_url);
KS_DLSYM_FUNCTION(curl_url_cleanup);
KS_DLSYM_FUNCTION(curl_url_set);
KS_DLSYM_FUNCTION(curl_url_get);
KS_DLSYM_FUNCTION(curl_free);

typedef struct ks_dlsym {
        void **sym;
        const char *name;
} ks_dlsym;

/* The pointer and the name it is looked up by, from one token; the assertion holds by
 * construction (KS_DLSYM_FUNCTION) and keeps a hand-written entry from pairing two functions. */
#define KS_DLSYM_ARG(fn)                                                                          \
        {                                                                                         \
                .sym = ({                                                                         \
                        _Static_assert(__builtin_types_compatible_p(typeof(sym_##fn), typeof(&fn)),   \
                                       "sym_" #fn " is not typed as " #fn);                       \
                        (void **) &sym_##fn;                                                      \
                }),                                                                               \
                .name = #fn,                                                                      \
        }

static bool curl_loaded;
static int curl_failed;                 /* 0, or the remembered negative errno */
static const char *curl_soname;
static char curl_error[256];

static void forget_symbols(const ks_dlsym *table, size_t n) {
        for (size_t i = 0; i < n; i++)
                *table[i].sym = NULL;
}

static int fail(int r, const char *what) {
        snprintf(curl_error, sizeof curl_error, "%s", what ?: "unknown error");
        curl_failed = r;
        return r;
}

int ks_curl_dl_open(void) {
        const ks_dlsym table[] = {
                KS_DLSYM_ARG(curl_global_init),
                KS_DLSYM_ARG(curl_global_cleanup),
                KS_DLSYM_ARG(curl_easy_init),
                KS_DLSYM_ARG(curl_easy_cleanup),
                KS_DLSYM_ARG(curl_easy_reset),
                KS_DLSYM_ARG(curl_easy_setopt),
                KS_DLSYM_ARG(curl_easy_getinfo),
                KS_DLSYM_ARG(curl_easy_strerror),
                KS_DLSYM_ARG(curl_multi_init),
                KS_DLSYM_ARG(curl_multi_cleanup),
                KS_DLSYM_ARG(curl_multi_setopt),
                KS_DLSYM_ARG(curl_multi_add_handle),
                KS_DLSYM_ARG(curl_multi_remove_handle),
                KS_DLSYM_ARG(curl_multi_socket_action),
                KS_DLSYM_ARG(curl_multi_assign),
                KS_DLSYM_ARG(curl_multi_info_read),
                KS_DLSYM_ARG(curl_slist_append),
                KS_DLSYM_ARG(curl_slist_free_all),
                KS_DLSYM_ARG(curl_url),
                KS_DLSYM_ARG(curl_url_cleanup),
                KS_DLSYM_ARG(curl_url_set),
                KS_DLSYM_ARG(curl_url_get),
                KS_DLSYM_ARG(curl_free),
        };
        void *dl;

        if (curl_loaded)
                return 0;
        if (curl_failed < 0)
                return curl_failed;

        curl_soname = secure_getenv("KS_CURL_SONAME") ?: KS_LIBCURL_SONAME;
        /* RTLD_NODELETE: nothing ever unloads it, so a pointer into it never dangles.
         * Not RTLD_DEEPBIND: it breaks AddressSanitizer's interception of malloc. */
        (void) dlerror();
        dl = dlopen(curl_soname, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (!dl)
                return fail(-EOPNOTSUPP, dlerror());
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                *table[i].sym = dlsym(dl, table[i].name);
                if (!*table[i].sym) {
                        int r = fail(-EOPNOTSUPP, dlerror());
                        forget_symbols(table, ELEMENTSOF(table));
                        (void) dlclose(dl);
                        return r;
                }
        }
        /* Once per process and before any other curl call: it is not thread-safe in older
         * libcurl, and notifyd has only one thread. */
        if (sym_curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                forget_symbols(table, ELEMENTSOF(table));
                (void) dlclose(dl);
                return fail(-EIO, "curl_global_init() failed");
        }
        curl_loaded = true;
        return 0;
}

bool ks_curl_dl_loaded(void) {
        return curl_loaded;
}

const char *ks_curl_dl_error(void) {
        return curl_failed < 0 ? curl_error : NULL;
}

const char *ks_curl_dl_soname(void) {
        return curl_soname ?: (secure_getenv("KS_CURL_SONAME") ?: KS_LIBCURL_SONAME);
}

void ks_curl_dl_cleanup(void) {
        if (!curl_loaded)
                return;
        sym_curl_global_cleanup();
        /* A later ks_curl_dl_open() finds the same mapping and initializes curl again. */
        curl_loaded = false;
}
