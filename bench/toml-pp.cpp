// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The peer in the TOML benchmark: toml++ (header-only, so it is compiled with the same flags as
 * our parser) parsing the same bytes, plus the fingerprint walk over its tree. C linkage so that
 * bench-toml.c drives both parsers from one loop.
 */
#include <chrono>
#include <cstdio>
#include <string_view>

#include <toml++/toml.h>

#include "toml-bench.h"
#include "toml-hash.h"

static uint64_t walk(const toml::node &n, uint64_t path) {
        uint64_t sum = 0;

        switch (n.type()) {
        case toml::node_type::table:
                sum += th_node(path, TH_TABLE, 0);
                for (auto &&[k, v] : *n.as_table())
                        sum += walk(v, th_key(path, k.str().data(), k.str().size()));
                break;
        case toml::node_type::array: {
                const toml::array &a = *n.as_array();
                sum += th_node(path, TH_ARRAY, 0);
                for (size_t i = 0; i < a.size(); i++)
                        sum += walk(a[i], th_index(path, i));
                break;
        }
        case toml::node_type::string: {
                const std::string &s = n.as_string()->get();
                sum += th_node(path, TH_STRING, th_bytes(TH_SEED, s.data(), s.size()));
                break;
        }
        case toml::node_type::integer:
                sum += th_node(path, TH_INTEGER, th_u64(TH_SEED, (uint64_t) n.as_integer()->get()));
                break;
        case toml::node_type::floating_point:
                sum += th_node(path, TH_FLOAT, th_u64(TH_SEED, th_float_bits(n.as_floating_point()->get())));
                break;
        case toml::node_type::boolean:
                sum += th_node(path, TH_BOOL, th_u64(TH_SEED, n.as_boolean()->get()));
                break;
        case toml::node_type::date: {
                const toml::date &d = n.as_date()->get();
                sum += th_node(path, TH_DATE, th_datetime(d.year, d.month, d.day, 0, 0, 0, 0, 0));
                break;
        }
        case toml::node_type::time: {
                const toml::time &t = n.as_time()->get();
                sum += th_node(path, TH_TIME, th_datetime(0, 0, 0, t.hour, t.minute, t.second, t.nanosecond, 0));
                break;
        }
        case toml::node_type::date_time: {
                const toml::date_time &dt = n.as_date_time()->get();
                uint64_t v = th_datetime(dt.date.year, dt.date.month, dt.date.day, dt.time.hour, dt.time.minute,
                                         dt.time.second, dt.time.nanosecond,
                                         dt.offset ? dt.offset->minutes : 0);
                sum += th_node(path, dt.offset ? TH_DATETIME : TH_DATETIME_LOCAL, v);
                break;
        }
        default:
                break;
        }
        return sum;
}

extern "C" int bench_tomlpp_parse(const char *buf, size_t len, uint64_t *ret_nsec, uint64_t *ret_fingerprint) {
        try {
                auto t0 = std::chrono::steady_clock::now();
                toml::table tbl = toml::parse(std::string_view(buf, len));
                auto t1 = std::chrono::steady_clock::now();
                *ret_nsec = (uint64_t) std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count();
                if (ret_fingerprint)
                        *ret_fingerprint = walk(tbl, TH_SEED);
                return 0;
        } catch (const toml::parse_error &e) {
                fprintf(stderr, "toml++: %u:%u: %.*s\n", (unsigned) e.source().begin.line,
                        (unsigned) e.source().begin.column, (int) e.description().size(), e.description().data());
                return -EINVAL;
        } catch (const std::bad_alloc &) {
                return -ENOMEM;
        }
}
