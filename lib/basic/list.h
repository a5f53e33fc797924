/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Intrusive doubly linked lists: an item carries its own prev and next pointers, a list is its
 * head (and, for a FIFO, its tail). Linking and unlinking cost no allocation and no search.
 * head, tail and item are evaluated more than once: pass plain lvalues.
 */
#pragma once

#include <stddef.h>

/* Puts item first. */
#define LIST_PREPEND(head, item)                                                                 \
        do {                                                                                     \
                (item)->prev = NULL;                                                             \
                (item)->next = (head);                                                           \
                if ((item)->next)                                                                \
                        (item)->next->prev = (item);                                             \
                (head) = (item);                                                                 \
        } while (0)

/* Puts item last of a list that keeps its tail. */
#define LIST_APPEND(head, tail, item)                                                            \
        do {                                                                                     \
                (item)->next = NULL;                                                             \
                (item)->prev = (tail);                                                           \
                if (tail)                                                                        \
                        (tail)->next = (item);                                                   \
                else                                                                             \
                        (head) = (item);                                                         \
                (tail) = (item);                                                                 \
        } while (0)

/* Takes item out of a list that keeps only its head. */
#define LIST_REMOVE(head, item)                                                                  \
        do {                                                                                     \
                if ((item)->prev)                                                                \
                        (item)->prev->next = (item)->next;                                       \
                else                                                                             \
                        (head) = (item)->next;                                                   \
                if ((item)->next)                                                                \
                        (item)->next->prev = (item)->prev;                                       \
                (item)->prev = (item)->next = NULL;                                              \
        } while (0)

/* Takes item out of a list that keeps its tail too; its pointers are left NULL. */
#define LIST_REMOVE_TAIL(head, tail, item)                                                       \
        do {                                                                                     \
                if (!(item)->next)                                                               \
                        (tail) = (item)->prev;                                                   \
                LIST_REMOVE(head, item);                                                         \
        } while (0)
