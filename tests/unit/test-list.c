/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* list.h: prepend, append and removal at the head, in the middle and at the tail keep both
 * directions and the ends right. */
#include "list.h"
#include "test.h"

typedef struct item {
        int v;
        struct item *prev, *next;
} item;

/* The list as digits, forwards, checking every back pointer and the tail on the way. */
static void expect(item *head, item *tail, const char *want) {
        char got[16] = "";
        size_t n = 0;
        item *last = NULL;

        for (item *i = head; i; i = i->next) {
                ASSERT_TRUE(i->prev == last);
                got[n++] = (char) ('0' + i->v);
                last = i;
        }
        ASSERT_TRUE(last == tail);
        ASSERT_STREQ(got, want);
}

TEST(fifo) {
        item it[5] = { { 0 }, { 1 }, { 2 }, { 3 }, { 4 } };
        item *head = NULL, *tail = NULL;

        for (int i = 0; i < 5; i++)
                LIST_APPEND(head, tail, &it[i]);
        expect(head, tail, "01234");
        LIST_REMOVE_TAIL(head, tail, &it[0]);
        expect(head, tail, "1234");
        LIST_REMOVE_TAIL(head, tail, &it[2]);
        expect(head, tail, "134");
        LIST_REMOVE_TAIL(head, tail, &it[4]);
        expect(head, tail, "13");
        ASSERT_TRUE(it[4].prev == NULL && it[4].next == NULL);
        LIST_REMOVE_TAIL(head, tail, &it[1]);
        LIST_REMOVE_TAIL(head, tail, &it[3]);
        ASSERT_TRUE(head == NULL && tail == NULL);
        LIST_APPEND(head, tail, &it[2]);
        expect(head, tail, "2");
}

TEST(head_only) {
        item it[3] = { { 0 }, { 1 }, { 2 } };
        item *head = NULL;

        for (int i = 0; i < 3; i++)
                LIST_PREPEND(head, &it[i]);
        expect(head, &it[0], "210");
        LIST_REMOVE(head, &it[1]);
        expect(head, &it[0], "20");
        LIST_REMOVE(head, &it[2]);
        expect(head, &it[0], "0");
        LIST_REMOVE(head, &it[0]);
        ASSERT_TRUE(head == NULL);
}

TEST_MAIN();
