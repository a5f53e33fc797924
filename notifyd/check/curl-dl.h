/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libcurl, loaded with dlopen() the first time a check needs it. Linking it would map ~30
 * libraries (TLS, ssh, LDAP, Kerberos, IDN, HTTP/2...) and ~8 MB into every notifyd, while
 * plain http:// checks to addresses and TCP checks to addresses never use it.
 *
 * notifyd calls libcurl only through the sym_curl_* pointers declared here. Each one has the
 * type of the function curl/curl.h declares (typeof), so a prototype cannot drift from the
 * headers the build uses; the library loaded is the one those headers belong to (its soname is
 * KS_LIBCURL_SONAME in config.h, found by meson).
 */
#pragma once

#include <curl/curl.h>
#include <stdbool.h>

/* A pointer named sym_NAME with the type of a pointer to the function NAME. */
#define KS_DLSYM_PROTOTYPE(name) extern typeof(name) *sym_##name

KS_DLSYM_PROTOTYPE(curl_global_init);
KS_DLSYM_PROTOTYPE(curl_global_cleanup);
KS_DLSYM_PROTOTYPE(curl_easy_init);
KS_DLSYM_PROTOTYPE(curl_easy_cleanup);
KS_DLSYM_PROTOTYPE(curl_easy_reset);
KS_DLSYM_PROTOTYPE(curl_easy_setopt);
KS_DLSYM_PROTOTYPE(curl_easy_getinfo);
KS_DLSYM_PROTOTYPE(curl_easy_strerror);
KS_DLSYM_PROTOTYPE(curl_multi_init);
KS_DLSYM_PROTOTYPE(curl_multi_cleanup);
KS_DLSYM_PROTOTYPE(curl_multi_setopt);
KS_DLSYM_PROTOTYPE(curl_multi_add_handle);
KS_DLSYM_PROTOTYPE(curl_multi_remove_handle);
KS_DLSYM_PROTOTYPE(curl_multi_socket_action);
KS_DLSYM_PROTOTYPE(curl_multi_assign);
KS_DLSYM_PROTOTYPE(curl_multi_info_read);
KS_DLSYM_PROTOTYPE(curl_slist_append);
KS_DLSYM_PROTOTYPE(curl_slist_free_all);
KS_DLSYM_PROTOTYPE(curl_url);
KS_DLSYM_PROTOTYPE(curl_url_cleanup);
KS_DLSYM_PROTOTYPE(curl_url_set);
KS_DLSYM_PROTOTYPE(curl_url_get);
KS_DLSYM_PROTOTYPE(curl_free);

/* Loads libcurl and every symbol above, then runs curl_global_init; once per process. 0 when
 * libcurl is usable (again: later calls are cheap), -EOPNOTSUPP when the library or one of its
 * symbols could not be loaded (ks_curl_dl_error() says why), -EIO when curl_global_init failed.
 * A failure is remembered: notifyd does not search the disk again on every check.
 *
 * For tests only: $KS_CURL_SONAME, when set, replaces the soname (a test names a library that
 * does not exist to prove notifyd carries on without libcurl). Ignored in a setuid process. */
int ks_curl_dl_open(void);

/* Whether ks_curl_dl_open() succeeded. */
bool ks_curl_dl_loaded(void);

/* Why the last ks_curl_dl_open() failed (dlerror()'s text, or curl_global_init's failure), for
 * the caller's log line and the check's reason; NULL when it did not fail. */
const char *ks_curl_dl_error(void);

/* The soname ks_curl_dl_open() loads (or tried to). */
const char *ks_curl_dl_soname(void);

/* curl_global_cleanup, when ks_curl_dl_open() ran curl_global_init, for the end of main: no curl
 * handle may be left. The library stays mapped (RTLD_NODELETE); a later ks_curl_dl_open()
 * initializes it again. */
void ks_curl_dl_cleanup(void);
