/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A streaming JSON writer (RFC 8259) into a growing buffer: objects, arrays, strings, numbers,
 * booleans and null, compact or indented. For output kservice produces (kservicectl --json,
 * webhook bodies), not a parser.
 *
 * Errors are sticky: each call does nothing once one failed (out of memory, a value where a key
 * is due, an end without a begin), and ks_json_writer_finish() returns the first error, so
 * callers write a document without checking every call.
 *
 * Strings:
 *  - '"' and '\' are escaped; \b \f \n \r \t in their short form; every other byte below 0x20,
 *    and 0x7f (DEL, harmless in JSON but not in a terminal or a log), as \u00XX;
 *  - valid UTF-8 is copied as it is (no \u escapes for non-ASCII, U+2028/U+2029 included);
 *  - invalid UTF-8 is never passed on: each byte that does not start a valid sequence, or is
 *    not part of one (a stray continuation byte, a truncated or overlong sequence, a surrogate
 *    U+D800..U+DFFF, anything above U+10FFFF, 0xC0, 0xC1, 0xF5..0xFF), becomes one U+FFFD
 *    REPLACEMENT CHARACTER, so the output is always valid UTF-8 and valid JSON and the rest of
 *    the text survives. Text from a service (a health check's reason, an HTTP body) can hold any
 *    bytes; refusing it would lose the whole message.
 *  - a string with an embedded NUL can be written with ks_json_writer_stringn(): NUL becomes \u0000.
 * Numbers: signed and unsigned 64-bit integers exactly; doubles in the shortest of %.15g and
 * %.17g that reads back to the same value, in the C locale's syntax whatever the locale; NaN and
 * infinities (which JSON cannot hold) as null.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

typedef enum ks_json_flags {
        KS_JSON_PRETTY = 1 << 0,        /* newlines and two-space indentation, ": " after keys */
} ks_json_flags;

typedef struct ks_json_writer ks_json_writer;

/* NULL when out of memory. */
ks_json_writer *ks_json_writer_new(ks_json_flags flags);
ks_json_writer *ks_json_writer_free(ks_json_writer *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(ks_json_writer *, ks_json_writer_free);

/* Containers. Inside an object every value is preceded by ks_json_writer_key(). */
void ks_json_writer_object_begin(ks_json_writer *w);
void ks_json_writer_object_end(ks_json_writer *w);
void ks_json_writer_array_begin(ks_json_writer *w);
void ks_json_writer_array_end(ks_json_writer *w);
void ks_json_writer_key(ks_json_writer *w, const char *key);

/* Values. string(NULL) writes null. */
void ks_json_writer_string(ks_json_writer *w, const char *s);
void ks_json_writer_stringn(ks_json_writer *w, const char *s, size_t n);
void ks_json_writer_int(ks_json_writer *w, int64_t v);
void ks_json_writer_uint(ks_json_writer *w, uint64_t v);
void ks_json_writer_double(ks_json_writer *w, double v);
void ks_json_writer_bool(ks_json_writer *w, bool v);
void ks_json_writer_null(ks_json_writer *w);

/* Key and value in one call, for the common case inside an object. */
void ks_json_writer_field_string(ks_json_writer *w, const char *key, const char *s);
void ks_json_writer_field_int(ks_json_writer *w, const char *key, int64_t v);
void ks_json_writer_field_uint(ks_json_writer *w, const char *key, uint64_t v);
void ks_json_writer_field_double(ks_json_writer *w, const char *key, double v);
void ks_json_writer_field_bool(ks_json_writer *w, const char *key, bool v);

/* The document: one complete value (every container closed) followed by a newline, or the first
 * error: -ENOMEM, -EINVAL (misuse: a value without a key in an object, a key outside one, an end
 * that does not match, a second top-level value, or nothing written). *ret is NUL-terminated and
 * the caller's; *ret_size (may be NULL) its length. The writer can only be freed afterwards. */
int ks_json_writer_finish(ks_json_writer *w, char **ret, size_t *ret_size);

/* Appends s (n bytes) as the contents of a JSON string (no quotes), escaped as above, to the
 * buffer *buf of *len bytes and *cap capacity (realloc'd). For callers building strings by hand. */
int ks_json_escape_append(char **buf, size_t *len, size_t *cap, const char *s, size_t n);
