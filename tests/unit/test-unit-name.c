/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* unit-name.c: the one unit name validator, with the flags each caller passes and the names each must take and refuse. */
#include <string.h>

#include "test.h"
#include "unit-name.h"

/* The callers' flags. */
#define ON_GIVE_UP KS_UNIT_NAME_ANY     /* lib/service.c, "on_give_up": a template too */
#define STARTABLE (KS_UNIT_NAME_PLAIN | KS_UNIT_NAME_INSTANCE | KS_UNIT_NAME_NO_TRAILING_AT) /* lib/service.c: dependencies, units */
#define WRITER (KS_UNIT_NAME_PLAIN | KS_UNIT_NAME_INSTANCE) /* lib/unit-writer.c: unit lists */

static const struct {
        const char *name;
        bool on_give_up, startable, writer;
} names[] = {
        { "network-online.target",      true,  true,  true },
        { "postgresql.service",         true,  true,  true },
        { "dev-sda1.device",            true,  true,  true },
        { "x\\x2dy.mount",              true,  true,  true },
        { "a:b_c.d-e.socket",           true,  true,  true },
        { "foo.automount",              true,  true,  true },
        { "foo.service.service",        true,  true,  true },
        { "getty@tty1.service",         true,  true,  true },
        { "foo@a@b.service",            true,  true,  true },
        { "foo@a.b.service",            true,  true,  true },
        /* Templates: only where unit-gen makes them an instance. */
        { "alert@.service",             true,  false, false },
        /* An instance ending in "@": systemd's and the writer's, not the model's. */
        { "foo@a@.service",             true,  false, true },
        { "foo@@.service",              true,  false, true },
        { "",                           false, false, false },
        { "foo",                        false, false, false },
        { "foo.",                       false, false, false },
        { ".service",                   false, false, false },
        { "@.service",                  false, false, false },
        { "@x.service",                 false, false, false },
        { "a b.service",                false, false, false },
        { "wéb.service",                false, false, false },
        { "a/b.service",                false, false, false },
        { "a\nb.service",               false, false, false },
        { "foo.services",               false, false, false },
        { "foo.Service",                false, false, false },
        { "foo.snapshot",               false, false, false },
        { "foo@bar",                    false, false, false },
};

static void test_table(void) {
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
                ASSERT_EQ(unit_name_is_valid(names[i].name, ON_GIVE_UP), names[i].on_give_up);
                ASSERT_EQ(unit_name_is_valid(names[i].name, STARTABLE), names[i].startable);
                ASSERT_EQ(unit_name_is_valid(names[i].name, WRITER), names[i].writer);
        }
        ASSERT_TRUE(!unit_name_is_valid(NULL, KS_UNIT_NAME_ANY));
}

static void test_kinds(void) {
        ASSERT_TRUE(unit_name_is_valid("foo.service", KS_UNIT_NAME_PLAIN));
        ASSERT_TRUE(!unit_name_is_valid("foo@a.service", KS_UNIT_NAME_PLAIN));
        ASSERT_TRUE(!unit_name_is_valid("foo@.service", KS_UNIT_NAME_PLAIN));
        ASSERT_TRUE(unit_name_is_valid("foo@a.service", KS_UNIT_NAME_INSTANCE));
        ASSERT_TRUE(!unit_name_is_valid("foo.service", KS_UNIT_NAME_INSTANCE));
        ASSERT_TRUE(unit_name_is_valid("foo@.service", KS_UNIT_NAME_TEMPLATE));
        ASSERT_TRUE(!unit_name_is_valid("foo@a.service", KS_UNIT_NAME_TEMPLATE));
        ASSERT_TRUE(unit_name_is_valid("foo@.service", KS_UNIT_NAME_TEMPLATE | KS_UNIT_NAME_NO_TRAILING_AT));
}

static void test_length(void) {
        char name[300];

        /* 255 bytes at most, systemd's UNIT_NAME_MAX. */
        memset(name, 'a', 247);
        strcpy(name + 247, ".service");
        ASSERT_EQ(strlen(name), 255);
        ASSERT_TRUE(unit_name_is_valid(name, WRITER));
        ASSERT_TRUE(unit_name_is_valid(name, STARTABLE));
        memset(name, 'a', 248);
        strcpy(name + 248, ".service");
        ASSERT_TRUE(!unit_name_is_valid(name, WRITER));
        ASSERT_TRUE(!unit_name_is_valid(name, ON_GIVE_UP));
}

static void test_type_suffix(void) {
        ASSERT_STREQ(unit_type_suffix("foo.service"), ".service");
        ASSERT_STREQ(unit_type_suffix("foo.automount"), ".automount");
        ASSERT_STREQ(unit_type_suffix("foo.mount"), ".mount");
        ASSERT_STREQ(unit_type_suffix(".target"), ".target");
        ASSERT_TRUE(!unit_type_suffix("foo"));
        ASSERT_TRUE(!unit_type_suffix("foo.services"));
}

int main(void) {
        test_table();
        test_kinds();
        test_length();
        test_type_suffix();
        TEST_DONE();
}
