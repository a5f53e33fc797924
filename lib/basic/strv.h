/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* String vectors: NULL-terminated arrays of owned strings (char **), NULL meaning empty. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/* Frees every string and the array; returns NULL. */
char **strv_free(char **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)

size_t strv_length(char *const *l);
/* Appends s, whose ownership passes to the vector on success only. */
int strv_push(char ***l, char *s);
/* Appends s, which the vector owns from now on (freed on failure too). */
int strv_consume(char ***l, char *s);
/* Appends a copy of s. */
int strv_extend(char ***l, const char *s);
/* A deep copy (NULL for an empty or NULL l). */
int strv_copy(char *const *l, char ***ret);
/* Same strings in the same order; NULL equals the empty vector. */
bool strv_equal(char *const *a, char *const *b);

#define STRV_FOREACH(s, l) for (char **s = (l); s && *s; s++)
