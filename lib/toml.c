/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * TOML 1.0 parser (toml.io/en/v1.0.0), written from the specification.
 *
 * One forward pass over a private, NUL-terminated copy of the input. That copy is the first block
 * of the document's arena: strings without escapes point straight into it (their closing quote,
 * already consumed, is overwritten by the terminating NUL), everything else is bump-allocated in
 * further blocks, and ks_toml_free() releases them all. The trailing NUL is a sentinel: every scan
 * loop stops on it (it is a control character), so the hot loops carry no bounds checks; a NUL
 * found before the end is an error.
 *
 * Errors unwind with longjmp() from where they are found: the parser keeps all its state in the
 * arena and one heap-allocated parser struct, so nothing else needs cleaning up, and the hot paths
 * stay free of error plumbing.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "time-util.h"
#include "toml.h"

#define U(c) ((unsigned char) (c))

/* Character classes. Tab is deliberately not C_CTRL: it is allowed in strings and comments. */
enum {
        C_CTRL = 1 << 0,        /* U+0000..U+0008, U+000A..U+001F, U+007F */
        C_HIGH = 1 << 1,        /* bytes of multi-byte UTF-8 sequences */
        C_DQ = 1 << 2,
        C_BS = 1 << 3,
        C_SQ = 1 << 4,
        C_BARE = 1 << 5,        /* A-Z a-z 0-9 _ - */
        C_DIGIT = 1 << 6,
};

static const uint8_t cls[256] = {
        [0x00 ... 0x08] = C_CTRL,
        [0x0A ... 0x1F] = C_CTRL,
        [0x7F] = C_CTRL,
        [0x80 ... 0xFF] = C_HIGH,
        ['"'] = C_DQ,
        ['\\'] = C_BS,
        ['\''] = C_SQ,
        ['A' ... 'Z'] = C_BARE,
        ['a' ... 'z'] = C_BARE,
        ['_'] = C_BARE,
        ['-'] = C_BARE,
        ['0' ... '9'] = C_BARE | C_DIGIT,
};

static inline bool is_digit(char c) {
        return cls[U(c)] & C_DIGIT;
}

/* Length of the valid UTF-8 sequence starting at s (whose first byte is >= 0x80), or 0. Reading
 * ahead is safe: the buffer ends in a NUL, which is never a continuation byte. */
static inline size_t utf8_len(const char *str) {
        const unsigned char *s = (const unsigned char *) str;
        unsigned char c = s[0], lo = 0x80, hi = 0xBF;

        if (c < 0xC2)
                return 0;
        if (c < 0xE0)
                return (s[1] & 0xC0) == 0x80 ? 2 : 0;
        if (c < 0xF0) {
                if (c == 0xE0)
                        lo = 0xA0;
                else if (c == 0xED) /* no surrogates */
                        hi = 0x9F;
                if (s[1] < lo || s[1] > hi)
                        return 0;
                return (s[2] & 0xC0) == 0x80 ? 3 : 0;
        }
        if (c < 0xF5) {
                if (c == 0xF0)
                        lo = 0x90;
                else if (c == 0xF4) /* nothing above U+10FFFF */
                        hi = 0x8F;
                if (s[1] < lo || s[1] > hi || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
                        return 0;
                return 4;
        }
        return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Arena */

typedef struct block {
        struct block *next;
        size_t pad; /* keeps the data after the header 16-byte aligned */
} block;

#define BLOCK_FIRST (16u * 1024u)
#define BLOCK_MAX (4u * 1024u * 1024u)
#define HUGE_PAGE (2u * 1024u * 1024u)

/* A bump allocator over blocks of doubling size. The parser has two: one for values and
 * strings, and one for the item arrays of tables and arrays of tables, which grow while they are
 * filled. Kept apart from the values, the array being filled is usually the last allocation of
 * its region and grows in place instead of being copied. */
typedef struct region {
        char *cur, *end;
        size_t block_size;
} region;

struct ks_toml_document {
        block *blocks;
        ks_toml_value *root;
};

/* Tables and arrays are allocated as nodes; the public value is the first member, so a
 * ks_toml_value of type TABLE or ARRAY coming from a parsed document can be cast back. */
enum {
        F_EXPLICIT = 1 << 0,    /* table defined by a [header] (or an element of [[header]]) */
        F_DOTTED = 1 << 1,      /* table created by a dotted key */
        F_AOT = 1 << 2,         /* array created by [[header]] (static arrays cannot be appended to) */
};

typedef struct node {
        ks_toml_value v;
        uint32_t cap;           /* allocated items */
        uint32_t idx_cap;       /* slots in idx, a power of two, or 0 */
        uint32_t *idx;          /* open-addressing hash index: item number + 1, 0 = empty */
        uint32_t owner;         /* inline table that may still add keys to it, 0: the document */
        struct node *last_child; /* the table a [header] last opened directly in this one */
        uint16_t depth;
        uint8_t flags;
} node;

/* Tables with more keys than this get a hash index for duplicate checks and lookups. */
#define INDEX_MIN 32

typedef struct keypart {
        const char *s; /* the key's bytes; s[len] may be overwritten with NUL once consumed */
        size_t len;
        const char *at;
        unsigned line, col;
} keypart;

typedef struct parser {
        char *buf, *start, *end; /* start skips a BOM; *end == '\0' */
        char *p;

        unsigned line;
        const char *line_start;
        const char *colpos; /* cache for colof(): column colval is at colpos */
        unsigned colval;

        ks_toml_document *doc;
        region main, grow;

        ks_toml_value **vstack; /* elements of the arrays being parsed */
        size_t vn, vcap;

        uint32_t inline_id, inline_seq;
        node *root;

        jmp_buf jb;
        int err;
        ks_toml_error *reterr;

        keypart keys[KS_TOML_MAX_DEPTH + 1];
} parser;

/* Allocates a block for at least *size bytes of data and returns in *size how many it holds. */
static block *block_new(size_t *size) {
        block *b;

        /* Large blocks are whole, aligned huge pages: a big document then takes a few hundred page
         * faults instead of tens of thousands, and no huge page is cleared for a few bytes. */
        if (*size >= HUGE_PAGE) {
                size_t total = (sizeof(block) + *size + HUGE_PAGE - 1) & ~(size_t) (HUGE_PAGE - 1);
                b = aligned_alloc(HUGE_PAGE, total);
                if (b) {
                        (void) madvise(b, total, MADV_HUGEPAGE);
                        *size = total - sizeof(block);
                }
        } else
                b = malloc(sizeof(block) + *size);
        if (b)
                b->next = NULL;
        return b;
}

__attribute__((noreturn)) static void fail_oom(parser *p) {
        p->err = -ENOMEM;
        if (p->reterr) {
                p->reterr->line = p->reterr->column = 0;
                snprintf(p->reterr->message, sizeof p->reterr->message, "out of memory");
        }
        longjmp(p->jb, 1);
}

static void *region_alloc_slow(parser *p, region *r, size_t n) {
        bool own = n > BLOCK_MAX / 4;
        size_t size = own ? n : r->block_size;
        block *b;

        if (n > SIZE_MAX / 2)
                fail_oom(p);
        if (!own && size >= HUGE_PAGE)
                size -= sizeof(block); /* header and data fill whole huge pages */
        b = block_new(&size);
        if (!b)
                fail_oom(p);
        b->next = p->doc->blocks;
        p->doc->blocks = b;
        if (own)
                return b + 1;
        if (r->block_size < BLOCK_MAX)
                r->block_size *= 2;
        r->cur = (char *) (b + 1) + n;
        r->end = (char *) (b + 1) + size;
        return b + 1;
}

static inline void *region_alloc(parser *p, region *r, size_t n) {
        n = (n + 7) & ~(size_t) 7;
        if (_likely_((size_t) (r->end - r->cur) >= n)) {
                void *ret = r->cur;
                r->cur += n;
                return ret;
        }
        return region_alloc_slow(p, r, n);
}

static inline void *palloc(parser *p, size_t n) {
        return region_alloc(p, &p->main, n);
}

/* Gives back the unused tail of the most recent allocation, if nothing was allocated since. */
static inline void ptrim(parser *p, char *ptr, size_t allocated, size_t used) {
        allocated = (allocated + 7) & ~(size_t) 7;
        used = (used + 7) & ~(size_t) 7;
        if (ptr + allocated == p->main.cur)
                p->main.cur = ptr + used;
}

/* Makes room for more items in an array of elem-byte items (*items, *cap, n used): in place when
 * it is the last allocation of the grow region, else by copying into twice the space. */
static void grow_items(parser *p, void **items, uint32_t *cap, size_t n, size_t elem) {
        region *r = &p->grow;
        char *old = *items;
        size_t old_bytes = (size_t) *cap * elem;
        uint32_t ncap;
        char *nitems;

        if (old && old + old_bytes == r->cur && (size_t) (r->end - r->cur) >= 8 * elem) {
                r->cur += 8 * elem;
                *cap += 8;
                return;
        }
        ncap = *cap ? *cap * 2 : 4;
        if (ncap < *cap)
                fail_oom(p);
        nitems = region_alloc(p, r, (size_t) ncap * elem);
        if (n)
                memcpy(nitems, old, n * elem);
        *items = nitems;
        *cap = ncap;
}

/* Sibling tables tend to have the same keys ([service.b] after [service.a], each [[check]]):
 * a table opened by a header starts with room for as many keys as its previous sibling has,
 * bounded so that one large table cannot make many small ones after it expensive. */
#define RESERVE_MAX 256u

static void reserve_like(parser *p, node *t, const node *sibling) {
        uint32_t n;

        if (!sibling || sibling->v.type != KS_TOML_TABLE || t->cap > 0)
                return;
        n = MIN(sibling->v.table.n, RESERVE_MAX);
        if (n <= 4)
                return;
        t->v.table.items = region_alloc(p, &p->grow, (size_t) n * sizeof(ks_toml_keyval));
        t->cap = n;
}

/* ---------------------------------------------------------------------------------------------
 * Positions and errors */

static inline void newline(parser *p, const char *after) {
        p->line++;
        p->line_start = after;
}

/* Column (1-based, in code points) of a position on the current line. Positions are mostly asked
 * for in increasing order, so counting resumes from the last answer. */
static unsigned colof(parser *p, const char *at) {
        const char *from = p->line_start;
        unsigned col = 1;

        if (p->colpos >= p->line_start && p->colpos <= at) {
                from = p->colpos;
                col = p->colval;
        }
        for (; from < at; from++)
                col += (U(*from) & 0xC0) != 0x80;
        p->colpos = at;
        p->colval = col;
        return col;
}

static const char *describe(parser *p, const char *at, char buf[static 32]) {
        unsigned char c;

        if (at >= p->end)
                return "end of file";
        c = U(*at);
        if (c == '\n')
                return "newline";
        if (c == '\r')
                return "carriage return";
        if (c == 0)
                return "NUL byte";
        if (c < 0x20 || c == 0x7F)
                snprintf(buf, 32, "control character U+%04X", c);
        else if (c >= 0x80)
                snprintf(buf, 32, utf8_len(at) ? "non-ASCII character" : "invalid UTF-8 byte 0x%02X", c);
        else
                snprintf(buf, 32, "'%c'", c);
        return buf;
}

/* Prints a key for a message: printable ASCII as is, the rest escaped, long keys cut. */
static const char *keystr(const char *s, size_t len, char buf[static 64]) {
        size_t o = 0;

        for (size_t i = 0; i < len; i++) {
                unsigned char c = U(s[i]);
                if (o + 8 >= 64) {
                        memcpy(buf + o, "...", 3);
                        o += 3;
                        break;
                }
                if (c >= 0x20 && c < 0x7F && c != '\\')
                        buf[o++] = c;
                else
                        o += snprintf(buf + o, 64 - o, "\\x%02X", c);
        }
        buf[o] = 0;
        return buf;
}

_printf_(3, 4) __attribute__((noreturn, cold)) static void fail(parser *p, const char *at, const char *fmt, ...) {
        p->err = -EINVAL;
        if (p->reterr) {
                /* Computed from scratch: errors are rare and this way no position bookkeeping in
                 * the hot paths has to be exact. The parser only ever overwrites closing quotes and
                 * bytes after keys with NUL, which neither adds nor removes newlines or columns. */
                const char *ls = p->start, *q = p->start;
                unsigned line = 1, col = 1;
                va_list ap;

                if (at < p->start)
                        at = p->start;
                if (at > p->end)
                        at = p->end;
                while ((q = memchr(q, '\n', at - q))) {
                        line++;
                        ls = ++q;
                }
                for (; ls < at; ls++)
                        col += (U(*ls) & 0xC0) != 0x80;
                p->reterr->line = line;
                p->reterr->column = col;
                va_start(ap, fmt);
                vsnprintf(p->reterr->message, sizeof p->reterr->message, fmt, ap);
                va_end(ap);
        }
        longjmp(p->jb, 1);
}

static const char *type_name(const ks_toml_value *v) {
        if (v->type == KS_TOML_ARRAY && (((const node *) v)->flags & F_AOT))
                return "array of tables";
        return ks_toml_type_to_string(v->type);
}

/* ---------------------------------------------------------------------------------------------
 * Tables and arrays */

static inline uint64_t hash_key(const char *s, size_t n) {
        uint64_t h = 0x9E3779B97F4A7C15ULL ^ n, w;

        while (n >= 8) {
                memcpy(&w, s, 8);
                h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
                h ^= h >> 31;
                s += 8;
                n -= 8;
        }
        w = 0;
        memcpy(&w, s, n);
        h = (h ^ w) * 0x94d049bb133111ebULL;
        return h ^ (h >> 29);
}

static ks_toml_keyval *table_find(const node *t, const char *k, size_t len) {
        ks_toml_keyval *it = t->v.table.items;
        size_t n = t->v.table.n;

        if (!t->idx) {
                for (size_t i = 0; i < n; i++)
                        if (it[i].key_len == len && (len == 0 || (it[i].key[0] == k[0] && memcmp(it[i].key, k, len) == 0)))
                                return &it[i];
                return NULL;
        }
        for (uint32_t mask = t->idx_cap - 1, h = hash_key(k, len) & mask;; h = (h + 1) & mask) {
                uint32_t j = t->idx[h];
                if (!j)
                        return NULL;
                if (it[j - 1].key_len == len && memcmp(it[j - 1].key, k, len) == 0)
                        return &it[j - 1];
        }
}

static void index_put(node *t, uint32_t item) {
        const ks_toml_keyval *kv = &t->v.table.items[item];
        uint32_t mask = t->idx_cap - 1, h = hash_key(kv->key, kv->key_len) & mask;

        while (t->idx[h])
                h = (h + 1) & mask;
        t->idx[h] = item + 1;
}

static void table_add(parser *p, node *t, const keypart *k, ks_toml_value *v) {
        size_t n = t->v.table.n;
        ks_toml_keyval *kv;

        if (n == t->cap)
                grow_items(p, (void **) &t->v.table.items, &t->cap, n, sizeof(ks_toml_keyval));
        ((char *) k->s)[k->len] = 0; /* already consumed, see keypart */
        kv = &t->v.table.items[n];
        kv->key = k->s;
        kv->key_len = k->len;
        kv->line = k->line;
        kv->column = k->col;
        kv->value = v;
        t->v.table.n = ++n;

        if (n <= INDEX_MIN)
                return;
        if (n * 2 >= t->idx_cap) {
                /* Load factor at most 1/2 (rebuilt at twice the keys into twice the slots). */
                uint32_t cap = 64;
                while (cap <= n * 2)
                        cap *= 2;
                t->idx = palloc(p, cap * sizeof(uint32_t));
                memset(t->idx, 0, cap * sizeof(uint32_t));
                t->idx_cap = cap;
                for (uint32_t i = 0; i < n; i++)
                        index_put(t, i);
        } else
                index_put(t, n - 1);
}

static node *node_new(parser *p, ks_toml_type type, unsigned parent_depth, const char *at, unsigned line,
                      unsigned col) {
        node *n;

        if (parent_depth >= KS_TOML_MAX_DEPTH)
                fail(p, at, "nesting deeper than %d levels", KS_TOML_MAX_DEPTH);
        n = palloc(p, sizeof *n);
        memset(n, 0, sizeof *n);
        n->v.type = type;
        n->v.line = line;
        n->v.column = col;
        n->depth = parent_depth + 1;
        n->owner = p->inline_id;
        return n;
}

static void aot_append(parser *p, node *a, ks_toml_value *v) {
        size_t n = a->v.array.n;

        if (n == a->cap)
                grow_items(p, (void **) &a->v.array.items, &a->cap, n, sizeof(ks_toml_value *));
        a->v.array.items[n] = v;
        a->v.array.n = n + 1;
}

static void vpush(parser *p, ks_toml_value *v) {
        if (p->vn == p->vcap) {
                size_t cap = p->vcap ? p->vcap * 2 : 64;
                ks_toml_value **s = realloc(p->vstack, cap * sizeof *s);
                if (!s)
                        fail_oom(p);
                p->vstack = s;
                p->vcap = cap;
        }
        p->vstack[p->vn++] = v;
}

/* ---------------------------------------------------------------------------------------------
 * Whitespace, newlines, comments */

static inline char *skip_ws(char *q) {
        while (*q == ' ' || *q == '\t')
                q++;
        return q;
}

/* q at '#'; returns the position of the newline or the end of the input. */
static char *skip_comment(parser *p, char *q) {
        q++;
        for (;;) {
                unsigned char c;
                size_t n;

                while (!(cls[U(*q)] & (C_CTRL | C_HIGH)))
                        q++;
                c = U(*q);
                if (c == '\n' || (c == '\r' && q[1] == '\n') || q == p->end)
                        return q;
                if (c >= 0x80) {
                        n = utf8_len(q);
                        if (!n)
                                fail(p, q, "invalid UTF-8 byte 0x%02X in comment", c);
                        q += n;
                        continue;
                }
                if (c == '\r')
                        fail(p, q, "carriage return not followed by a newline");
                fail(p, q, "control character U+%04X is not allowed in a comment", c);
        }
}

/* Whitespace, newlines and comments, as allowed between array elements. */
static char *skip_wsnl(parser *p, char *q) {
        for (;;) {
                char c = *q;
                if (c == ' ' || c == '\t')
                        q++;
                else if (c == '\n') {
                        q++;
                        newline(p, q);
                } else if (c == '\r' && q[1] == '\n') {
                        q += 2;
                        newline(p, q);
                } else if (c == '#')
                        q = skip_comment(p, q);
                else
                        return q;
        }
}

/* ---------------------------------------------------------------------------------------------
 * Strings */

static size_t utf8_put(char *o, uint32_t cp) {
        if (cp < 0x80) {
                o[0] = cp;
                return 1;
        }
        if (cp < 0x800) {
                o[0] = 0xC0 | (cp >> 6);
                o[1] = 0x80 | (cp & 0x3F);
                return 2;
        }
        if (cp < 0x10000) {
                o[0] = 0xE0 | (cp >> 12);
                o[1] = 0x80 | ((cp >> 6) & 0x3F);
                o[2] = 0x80 | (cp & 0x3F);
                return 3;
        }
        o[0] = 0xF0 | (cp >> 18);
        o[1] = 0x80 | ((cp >> 12) & 0x3F);
        o[2] = 0x80 | ((cp >> 6) & 0x3F);
        o[3] = 0x80 | (cp & 0x3F);
        return 4;
}

/* Second pass over a basic string that holds escapes or CRLFs (already checked for UTF-8 and
 * control characters): writes the decoded bytes to the arena. Escapes never expand. */
static void decode_basic(parser *p, const char *s, const char *e, bool ml, const char **ret, size_t *ret_len) {
        const char *s0 = s;
        char *out = palloc(p, e - s + 1), *o = out;

        while (s < e) {
                const char *bs;
                uint32_t cp = 0;
                int nd;

                if (*s == '\r' && s[1] == '\n') {
                        *o++ = '\n';
                        s += 2;
                        continue;
                }
                if (*s != '\\') {
                        *o++ = *s++;
                        continue;
                }
                bs = s++;
                switch (*s) {
                case 'b': *o++ = '\b'; s++; continue;
                case 't': *o++ = '\t'; s++; continue;
                case 'n': *o++ = '\n'; s++; continue;
                case 'f': *o++ = '\f'; s++; continue;
                case 'r': *o++ = '\r'; s++; continue;
                case '"': *o++ = '"'; s++; continue;
                case '\\': *o++ = '\\'; s++; continue;
                case 'u':
                case 'U':
                        nd = *s == 'u' ? 4 : 8;
                        s++;
                        for (int i = 0; i < nd; i++, s++) {
                                int h = s < e ? unhexchar(*s) : -1;
                                if (h < 0)
                                        fail(p, s, "\\%c escape needs %d hexadecimal digits", nd == 4 ? 'u' : 'U', nd);
                                cp = cp << 4 | h;
                        }
                        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                                fail(p, bs, "escape %.*s is not a Unicode scalar value", (int) (s - bs), bs);
                        o += utf8_put(o, cp);
                        continue;
                case ' ':
                case '\t':
                case '\n':
                case '\r':
                        if (ml) {
                                /* Line-ending backslash: only whitespace may follow it on its line,
                                 * then all whitespace and newlines up to the next content go. */
                                const char *t = s;
                                while (*t == ' ' || *t == '\t')
                                        t++;
                                if (*t == '\n' || (*t == '\r' && t[1] == '\n')) {
                                        while (*t == ' ' || *t == '\t' || *t == '\n' || (*t == '\r' && t[1] == '\n'))
                                                t += *t == '\r' ? 2 : 1;
                                        s = t;
                                        continue;
                                }
                        }
                        __attribute__((fallthrough));
                default: {
                        char b[32];
                        fail(p, bs, "invalid escape sequence: backslash followed by %s", describe(p, s, b));
                }
                }
        }
        *o = 0;
        *ret = out;
        *ret_len = o - out;
        ptrim(p, out, e - s0 + 1, o - out + 1);
}

/* Basic string, single-line or multi-line; p->p at the first quote. */
static void parse_basic(parser *p, bool ml, const char **ret, size_t *ret_len) {
        char *q = p->p + (ml ? 3 : 1), *content, *content_end;
        bool decode = false;

        if (ml) {
                /* A newline right after the opening delimiter is not part of the string. */
                if (q[0] == '\n')
                        newline(p, ++q);
                else if (q[0] == '\r' && q[1] == '\n') {
                        q += 2;
                        newline(p, q);
                }
        }
        content = q;
        for (;;) {
                unsigned char c;
                size_t n;

                while (!(cls[U(*q)] & (C_CTRL | C_HIGH | C_DQ | C_BS)))
                        q++;
                c = U(*q);
                if (c == '"') {
                        if (!ml) {
                                content_end = q++;
                                break;
                        }
                        n = 1;
                        while (n < 5 && q[n] == '"')
                                n++;
                        if (n < 3) {
                                q += n;
                                continue;
                        }
                        /* Up to two quotes right before the closing delimiter belong to the string. */
                        content_end = q + (n - 3);
                        q += n;
                        break;
                }
                if (c == '\\') {
                        decode = true;
                        q += (q[1] == '"' || q[1] == '\\') ? 2 : 1;
                        continue;
                }
                if (c >= 0x80) {
                        n = utf8_len(q);
                        if (!n)
                                fail(p, q, "invalid UTF-8 byte 0x%02X in string", c);
                        q += n;
                        continue;
                }
                if (ml && c == '\n') {
                        newline(p, ++q);
                        continue;
                }
                if (ml && c == '\r' && q[1] == '\n') {
                        decode = true;
                        q += 2;
                        newline(p, q);
                        continue;
                }
                if (q == p->end || (!ml && (c == '\n' || c == '\r')))
                        fail(p, q, ml ? "unterminated multi-line string" : "unterminated string");
                if (c == '\r')
                        fail(p, q, "carriage return not followed by a newline");
                fail(p, q, "control character U+%04X must be escaped", c);
        }
        p->p = q;
        if (decode) {
                decode_basic(p, content, content_end, ml, ret, ret_len);
                return;
        }
        *content_end = 0;
        *ret = content;
        *ret_len = content_end - content;
}

/* Literal string, single-line or multi-line; p->p at the first quote. */
static void parse_literal(parser *p, bool ml, const char **ret, size_t *ret_len) {
        char *q = p->p + (ml ? 3 : 1), *content, *content_end;
        bool crlf = false;

        if (ml) {
                if (q[0] == '\n')
                        newline(p, ++q);
                else if (q[0] == '\r' && q[1] == '\n') {
                        q += 2;
                        newline(p, q);
                }
        }
        content = q;
        for (;;) {
                unsigned char c;
                size_t n;

                while (!(cls[U(*q)] & (C_CTRL | C_HIGH | C_SQ)))
                        q++;
                c = U(*q);
                if (c == '\'') {
                        if (!ml) {
                                content_end = q++;
                                break;
                        }
                        n = 1;
                        while (n < 5 && q[n] == '\'')
                                n++;
                        if (n < 3) {
                                q += n;
                                continue;
                        }
                        content_end = q + (n - 3);
                        q += n;
                        break;
                }
                if (c >= 0x80) {
                        n = utf8_len(q);
                        if (!n)
                                fail(p, q, "invalid UTF-8 byte 0x%02X in string", c);
                        q += n;
                        continue;
                }
                if (ml && c == '\n') {
                        newline(p, ++q);
                        continue;
                }
                if (ml && c == '\r' && q[1] == '\n') {
                        crlf = true;
                        q += 2;
                        newline(p, q);
                        continue;
                }
                if (q == p->end || (!ml && (c == '\n' || c == '\r')))
                        fail(p, q, ml ? "unterminated multi-line string" : "unterminated string");
                if (c == '\r')
                        fail(p, q, "carriage return not followed by a newline");
                fail(p, q, "control character U+%04X is not allowed in a literal string", c);
        }
        p->p = q;
        if (crlf) {
                /* Newlines are normalized to LF; nothing else changes in a literal string. */
                char *out = palloc(p, content_end - content + 1), *o = out;
                for (const char *s = content; s < content_end; s++)
                        if (!(*s == '\r' && s[1] == '\n'))
                                *o++ = *s;
                *o = 0;
                *ret = out;
                *ret_len = o - out;
                return;
        }
        *content_end = 0;
        *ret = content;
        *ret_len = content_end - content;
}

/* ---------------------------------------------------------------------------------------------
 * Numbers, dates and times */

static bool digits_n(const char *q, int n) {
        for (int i = 0; i < n; i++)
                if (!is_digit(q[i]))
                        return false;
        return true;
}

static int num2(const char *q) {
        return (q[0] - '0') * 10 + (q[1] - '0');
}

static int days_in_month(int y, int m) {
        static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
                return 29;
        return d[m - 1];
}

static char *parse_time(parser *p, char *q, ks_toml_datetime *dt) {
        char b[32];

        if (!digits_n(q, 2))
                fail(p, q, "expected a two-digit hour");
        if (q[2] != ':')
                fail(p, q + 2, "expected ':' after the hour, found %s", describe(p, q + 2, b));
        if (!digits_n(q + 3, 2))
                fail(p, q + 3, "expected two-digit minutes");
        if (q[5] != ':')
                fail(p, q + 5, "expected ':' after the minutes (seconds are required), found %s",
                     describe(p, q + 5, b));
        if (!digits_n(q + 6, 2))
                fail(p, q + 6, "expected two-digit seconds");
        dt->hour = num2(q);
        dt->minute = num2(q + 3);
        dt->second = num2(q + 6);
        if (dt->hour > 23)
                fail(p, q, "hour out of range (00-23)");
        if (dt->minute > 59)
                fail(p, q + 3, "minutes out of range (00-59)");
        if (dt->second > 60)
                fail(p, q + 6, "seconds out of range (00-60)");
        q += 8;
        dt->nanosecond = 0;
        if (*q == '.') {
                uint32_t mult = 100000000;
                q++;
                if (!is_digit(*q))
                        fail(p, q, "expected digits after the decimal point in a time");
                /* Precision beyond nanoseconds is truncated, as the specification asks. */
                for (; is_digit(*q); q++, mult /= 10)
                        dt->nanosecond += (*q - '0') * mult;
        }
        return q;
}

static void parse_datetime(parser *p, ks_toml_value *v) {
        ks_toml_datetime *dt = &v->datetime;
        char *q = p->p, b[32];

        memset(dt, 0, sizeof *dt);
        if (q[2] == ':') {
                q = parse_time(p, q, dt);
                v->type = KS_TOML_TIME_LOCAL;
                goto done;
        }
        if (!digits_n(q + 5, 2))
                fail(p, q + 5, "expected a two-digit month");
        if (q[7] != '-')
                fail(p, q + 7, "expected '-' after the month, found %s", describe(p, q + 7, b));
        if (!digits_n(q + 8, 2))
                fail(p, q + 8, "expected a two-digit day");
        dt->year = (q[0] - '0') * 1000 + (q[1] - '0') * 100 + num2(q + 2);
        dt->month = num2(q + 5);
        dt->day = num2(q + 8);
        if (dt->month < 1 || dt->month > 12)
                fail(p, q + 5, "month out of range (01-12)");
        if (dt->day < 1 || dt->day > days_in_month(dt->year, dt->month))
                fail(p, q + 8, "day out of range for %04d-%02d", dt->year, dt->month);
        q += 10;
        if (!(*q == 'T' || *q == 't' || (*q == ' ' && is_digit(q[1])))) {
                v->type = KS_TOML_DATE_LOCAL;
                goto done;
        }
        q = parse_time(p, q + 1, dt);
        if (*q == 'Z' || *q == 'z') {
                q++;
                v->type = KS_TOML_DATETIME;
        } else if (*q == '+' || *q == '-') {
                int h, m;
                if (!digits_n(q + 1, 2) || q[3] != ':' || !digits_n(q + 4, 2))
                        fail(p, q, "expected a time zone offset of the form +HH:MM");
                h = num2(q + 1);
                m = num2(q + 4);
                if (h > 23)
                        fail(p, q + 1, "time zone offset hours out of range (00-23)");
                if (m > 59)
                        fail(p, q + 4, "time zone offset minutes out of range (00-59)");
                dt->offset_minutes = (*q == '-' ? -1 : 1) * (h * 60 + m);
                q += 6;
                v->type = KS_TOML_DATETIME;
        } else
                v->type = KS_TOML_DATETIME_LOCAL;
done:
        if ((cls[U(*q)] & C_BARE) || *q == '.' || *q == ':' || *q == '+')
                fail(p, q, "unexpected %s in a date or time", describe(p, q, b));
        p->p = q;
}

/* DIGIT *( DIGIT / "_" DIGIT ), in the given base. */
static char *scan_digits(parser *p, char *q, int base) {
        char b[32];

        if (unhexchar(*q) < 0 || unhexchar(*q) >= base) {
                if (*q == '_')
                        fail(p, q, "'_' is only allowed between digits");
                fail(p, q, "expected a digit, found %s", describe(p, q, b));
        }
        for (;;) {
                int h = unhexchar(*q);
                if (h >= 0 && h < base)
                        q++;
                else if (*q == '_') {
                        h = unhexchar(q[1]);
                        if (h < 0 || h >= base)
                                fail(p, q, "'_' is only allowed between digits");
                        q++;
                } else
                        return q;
        }
}

static const double pow10_exact[] = {
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static double to_double(parser *p, const char *s, const char *e, bool neg) {
        uint64_t m = 0;
        int nd = 0, exp10 = 0, ex = 0;
        bool frac = false, exact = true, eneg = false;
        const char *t = s;
        char local[128], *buf;
        size_t o = 0;
        double r;

        /* Fast path: up to 15 significant digits and a power of ten up to 22 are exact doubles,
         * so one multiplication or division is correctly rounded. */
        for (; t < e && *t != 'e' && *t != 'E'; t++) {
                if (*t == '_')
                        continue;
                if (*t == '.') {
                        frac = true;
                        continue;
                }
                if (nd >= 15) {
                        exact = false;
                        break;
                }
                m = m * 10 + (*t - '0');
                if (m)
                        nd++;
                if (frac)
                        exp10--;
        }
        if (exact && t < e) {
                t++;
                if (*t == '+' || *t == '-')
                        eneg = *t++ == '-';
                for (; t < e; t++)
                        if (*t != '_' && ex < 10000)
                                ex = ex * 10 + (*t - '0');
                exp10 += eneg ? -ex : ex;
        }
        if (exact && exp10 >= -22 && exp10 <= 22) {
                r = exp10 < 0 ? (double) m / pow10_exact[-exp10] : (double) m * pow10_exact[exp10];
                return neg ? -r : r;
        }

        buf = (size_t) (e - s) < sizeof local ? local : palloc(p, e - s + 1);
        for (t = s; t < e; t++)
                if (*t != '_')
                        buf[o++] = *t;
        buf[o] = 0;
        r = strtod(buf, NULL);
        if (isinf(r))
                fail(p, s, "floating-point number out of range");
        return neg ? -r : r;
}

static void parse_number(parser *p, ks_toml_value *v) {
        char *s = p->p, *q = s, *digits, b[32];
        bool neg = false, sign = false, is_float = false;

        if (*q == '+' || *q == '-') {
                neg = *q == '-';
                sign = true;
                q++;
        }
        if ((q[0] == 'i' && q[1] == 'n' && q[2] == 'f') || (q[0] == 'n' && q[1] == 'a' && q[2] == 'n')) {
                v->type = KS_TOML_FLOAT;
                v->fp = q[0] == 'i' ? (neg ? -INFINITY : INFINITY) : (neg ? -NAN : NAN);
                q += 3;
                goto done;
        }
        if (!is_digit(*q))
                fail(p, q, "expected a value, found %s", describe(p, q, b));

        if (!sign && is_digit(q[1]) &&
            (q[2] == ':' || (is_digit(q[2]) && is_digit(q[3]) && q[4] == '-'))) {
                parse_datetime(p, v);
                return;
        }

        if (q[0] == '0' && (q[1] == 'x' || q[1] == 'o' || q[1] == 'b')) {
                int base = q[1] == 'x' ? 16 : q[1] == 'o' ? 8 : 2;
                uint64_t val = 0;
                char *e;

                if (sign)
                        fail(p, s, "hexadecimal, octal and binary integers cannot have a sign");
                e = scan_digits(p, q + 2, base);
                for (char *t = q + 2; t < e; t++) {
                        if (*t == '_')
                                continue;
                        if (val > ((uint64_t) INT64_MAX - unhexchar(*t)) / base)
                                fail(p, s, "integer out of range (64 bits)");
                        val = val * base + unhexchar(*t);
                }
                v->type = KS_TOML_INTEGER;
                v->integer = (int64_t) val;
                q = e;
                goto done;
        }

        digits = q;
        if (q[0] == '0' && (is_digit(q[1]) || q[1] == '_'))
                fail(p, q, "leading zeros are not allowed");
        q = scan_digits(p, q, 10);
        if (*q == '.') {
                is_float = true;
                q = scan_digits(p, q + 1, 10);
        }
        if (*q == 'e' || *q == 'E') {
                is_float = true;
                q++;
                if (*q == '+' || *q == '-')
                        q++;
                q = scan_digits(p, q, 10);
        }
        if (is_float) {
                v->type = KS_TOML_FLOAT;
                v->fp = to_double(p, digits, q, neg);
        } else {
                uint64_t val = 0, limit = neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
                for (char *t = digits; t < q; t++) {
                        unsigned d;
                        if (*t == '_')
                                continue;
                        d = *t - '0';
                        if (val > (limit - d) / 10)
                                fail(p, s, "integer out of range (64 bits)");
                        val = val * 10 + d;
                }
                v->type = KS_TOML_INTEGER;
                v->integer = neg ? (int64_t) (0 - val) : (int64_t) val;
        }
done:
        if ((cls[U(*q)] & C_BARE) || *q == '.' || *q == '+')
                fail(p, q, "unexpected %s in a number", describe(p, q, b));
        p->p = q;
}

/* ---------------------------------------------------------------------------------------------
 * Keys, values, tables */

static ks_toml_value *parse_value(parser *p, unsigned depth);

/* Reads a possibly dotted key into p->keys; returns the number of parts. */
static size_t parse_key(parser *p) {
        char *q = p->p, b[32];
        size_t n = 0;

        for (;;) {
                keypart *k;

                if (n > KS_TOML_MAX_DEPTH)
                        fail(p, q, "dotted key nests deeper than %d levels", KS_TOML_MAX_DEPTH);
                k = &p->keys[n++];
                k->at = q;
                k->line = p->line;
                k->col = colof(p, q);
                if (cls[U(*q)] & C_BARE) {
                        k->s = q;
                        while (cls[U(*q)] & C_BARE)
                                q++;
                        k->len = q - k->s;
                } else if (*q == '"' || *q == '\'') {
                        if (q[1] == q[0] && q[2] == q[0])
                                fail(p, q, "a multi-line string cannot be a key");
                        p->p = q;
                        if (*q == '"')
                                parse_basic(p, false, &k->s, &k->len);
                        else
                                parse_literal(p, false, &k->s, &k->len);
                        q = p->p;
                } else
                        fail(p, q, "expected a key, found %s", describe(p, q, b));
                q = skip_ws(q);
                if (*q != '.')
                        break;
                q = skip_ws(q + 1);
        }
        p->p = q;
        return n;
}

/* One step of a dotted key in a key/value pair: finds or creates the table it names. */
static node *descend_dotted(parser *p, node *t, const keypart *k) {
        ks_toml_keyval *kv = table_find(t, k->s, k->len);
        char b[64];
        node *n;

        if (!kv) {
                n = node_new(p, KS_TOML_TABLE, t->depth, k->at, k->line, k->col);
                n->flags = F_DOTTED;
                table_add(p, t, k, &n->v);
                return n;
        }
        if (kv->value->type != KS_TOML_TABLE)
                fail(p, k->at, "key '%s' is already defined as %s at line %u, it cannot hold more keys",
                     keystr(k->s, k->len, b), type_name(kv->value), kv->line);
        n = (node *) kv->value;
        if (n->owner != p->inline_id && n->owner != 0)
                fail(p, k->at, "inline table '%s' (line %u) cannot be extended", keystr(k->s, k->len, b),
                     kv->line);
        /* Dotted keys may add to tables they created themselves (in the same inline table) and
         * to tables only implied by a header such as [a.b.c]; not to defined ones. Once they
         * did, a later [header] for that table would be a second definition. */
        if (n->flags & F_EXPLICIT)
                fail(p, k->at, "table '%s' is already defined at line %u, dotted keys cannot add to it",
                     keystr(k->s, k->len, b), n->v.line);
        if (!(n->flags & F_DOTTED)) {
                n->flags |= F_DOTTED;
                n->v.line = k->line;
                n->v.column = k->col;
        }
        return n;
}

/* One step of a [table] or [[table]] header: finds or creates the table it names. */
static node *descend_header(parser *p, node *t, const keypart *k) {
        ks_toml_keyval *kv = table_find(t, k->s, k->len);
        char b[64];
        node *n;

        if (!kv) {
                n = node_new(p, KS_TOML_TABLE, t->depth, k->at, k->line, k->col);
                table_add(p, t, k, &n->v);
                return n;
        }
        n = (node *) kv->value;
        if (n->v.type == KS_TOML_TABLE) {
                if (n->owner != 0)
                        fail(p, k->at, "inline table '%s' (line %u) cannot be extended", keystr(k->s, k->len, b),
                             kv->line);
                return n;
        }
        if (n->v.type == KS_TOML_ARRAY && (n->flags & F_AOT))
                return (node *) n->v.array.items[n->v.array.n - 1];
        fail(p, k->at, "key '%s' is already defined as %s at line %u, it is not a table",
             keystr(k->s, k->len, b), type_name(kv->value), kv->line);
}

static void parse_keyval(parser *p, node *t) {
        size_t n = parse_key(p);
        char *q = p->p, b[64];
        keypart last;

        if (*q != '=')
                fail(p, q, "expected '=' after the key, found %s", describe(p, q, b));
        p->p = skip_ws(q + 1);
        for (size_t i = 0; i + 1 < n; i++)
                t = descend_dotted(p, t, &p->keys[i]);
        last = p->keys[n - 1];
        if (_unlikely_(t->v.table.n > 0)) {
                ks_toml_keyval *kv = table_find(t, last.s, last.len);
                if (kv)
                        fail(p, last.at, "duplicate key '%s' (first defined at line %u)",
                             keystr(last.s, last.len, b), kv->line);
        }
        table_add(p, t, &last, parse_value(p, t->depth));
}

static ks_toml_value *parse_array(parser *p, unsigned depth, unsigned line, unsigned col) {
        node *a = node_new(p, KS_TOML_ARRAY, depth, p->p, line, col);
        size_t base = p->vn, n;
        char *q = skip_wsnl(p, p->p + 1), b[32];

        while (*q != ']') {
                p->p = q;
                vpush(p, parse_value(p, a->depth));
                q = skip_wsnl(p, p->p);
                if (*q == ',') {
                        q = skip_wsnl(p, q + 1);
                        continue;
                }
                if (*q != ']')
                        fail(p, q, "expected ',' or ']' after an array element, found %s", describe(p, q, b));
        }
        p->p = q + 1;
        n = p->vn - base;
        if (n) {
                a->v.array.items = palloc(p, n * sizeof(ks_toml_value *));
                memcpy(a->v.array.items, p->vstack + base, n * sizeof(ks_toml_value *));
        }
        a->v.array.n = a->cap = n;
        p->vn = base;
        return &a->v;
}

static ks_toml_value *parse_inline_table(parser *p, unsigned depth, unsigned line, unsigned col) {
        node *t = node_new(p, KS_TOML_TABLE, depth, p->p, line, col);
        uint32_t saved = p->inline_id;
        char *q = skip_ws(p->p + 1), b[32];

        /* Everything created inside carries this id: dotted keys may extend it until the closing
         * brace, and nothing can afterwards. */
        t->owner = p->inline_id = ++p->inline_seq;
        if (*q != '}')
                for (;;) {
                        p->p = q;
                        parse_keyval(p, t);
                        q = skip_ws(p->p);
                        if (*q == ',') {
                                q = skip_ws(q + 1);
                                if (*q == '}')
                                        fail(p, q, "trailing comma in an inline table");
                                continue;
                        }
                        if (*q == '}')
                                break;
                        if (*q == '\n' || *q == '\r')
                                fail(p, q, "newline in an inline table (inline tables must be on one line)");
                        fail(p, q, "expected ',' or '}' after an inline table entry, found %s", describe(p, q, b));
                }
        p->p = q + 1;
        p->inline_id = saved;
        return &t->v;
}

static ks_toml_value *parse_value(parser *p, unsigned depth) {
        char *q = p->p, b[32];
        unsigned line = p->line, col = colof(p, q);
        ks_toml_value *v;

        switch (*q) {
        case '[':
                return parse_array(p, depth, line, col);
        case '{':
                return parse_inline_table(p, depth, line, col);
        }

        v = palloc(p, sizeof *v);
        v->line = line;
        v->column = col;
        switch (*q) {
        case '"':
                v->type = KS_TOML_STRING;
                parse_basic(p, q[1] == '"' && q[2] == '"', &v->string.str, &v->string.len);
                break;
        case '\'':
                v->type = KS_TOML_STRING;
                parse_literal(p, q[1] == '\'' && q[2] == '\'', &v->string.str, &v->string.len);
                break;
        case 't':
        case 'f':
                v->type = KS_TOML_BOOL;
                if (strncmp(q, "true", 4) == 0) {
                        v->boolean = true;
                        q += 4;
                } else if (strncmp(q, "false", 5) == 0) {
                        v->boolean = false;
                        q += 5;
                } else
                        fail(p, q, "expected a value, found %s", describe(p, q, b));
                if (cls[U(*q)] & C_BARE)
                        fail(p, q, "unexpected %s after a boolean", describe(p, q, b));
                p->p = q;
                break;
        case '0' ... '9':
        case '+':
        case '-':
        case 'i':
        case 'n':
                parse_number(p, v);
                break;
        default:
                fail(p, q, "expected a value, found %s", describe(p, q, b));
        }
        return v;
}

static node *parse_header(parser *p) {
        char *start = p->p, *q, b[64];
        unsigned line = p->line, col = colof(p, start);
        bool aot = start[1] == '[';
        ks_toml_keyval *kv;
        keypart *k;
        size_t n;
        node *t = p->root, *tbl;

        p->p = skip_ws(start + (aot ? 2 : 1));
        n = parse_key(p);
        q = p->p;
        if (*q != ']')
                fail(p, q, "expected ']' after the table name, found %s", describe(p, q, b));
        if (aot) {
                if (q[1] != ']')
                        fail(p, q + 1, "expected ']]' to close the array of tables header");
                q++;
        }
        p->p = q + 1;

        for (size_t i = 0; i + 1 < n; i++)
                t = descend_header(p, t, &p->keys[i]);
        k = &p->keys[n - 1];
        kv = table_find(t, k->s, k->len);

        if (aot) {
                node *arr;
                if (!kv) {
                        arr = node_new(p, KS_TOML_ARRAY, t->depth, start, line, col);
                        arr->flags = F_AOT;
                        table_add(p, t, k, &arr->v);
                } else {
                        arr = (node *) kv->value;
                        if (arr->v.type != KS_TOML_ARRAY || !(arr->flags & F_AOT))
                                fail(p, k->at, "cannot define array of tables '%s': already defined as %s at line %u",
                                     keystr(k->s, k->len, b), type_name(kv->value), kv->line);
                }
                tbl = node_new(p, KS_TOML_TABLE, arr->depth, start, line, col);
                tbl->flags = F_EXPLICIT;
                if (arr->v.array.n > 0)
                        reserve_like(p, tbl, (const node *) arr->v.array.items[arr->v.array.n - 1]);
                aot_append(p, arr, &tbl->v);
                return tbl;
        }

        if (!kv) {
                tbl = node_new(p, KS_TOML_TABLE, t->depth, start, line, col);
                tbl->flags = F_EXPLICIT;
                table_add(p, t, k, &tbl->v);
                reserve_like(p, tbl, t->last_child);
                t->last_child = tbl;
                return tbl;
        }
        tbl = (node *) kv->value;
        if (tbl->v.type != KS_TOML_TABLE)
                fail(p, k->at, "cannot define table '%s': already defined as %s at line %u", keystr(k->s, k->len, b),
                     type_name(kv->value), kv->line);
        if (tbl->owner != 0)
                fail(p, k->at, "cannot define table '%s': already defined as an inline table at line %u",
                     keystr(k->s, k->len, b), kv->line);
        if (tbl->flags & F_EXPLICIT)
                fail(p, k->at, "table '%s' is defined twice (first at line %u)", keystr(k->s, k->len, b),
                     tbl->v.line);
        if (tbl->flags & F_DOTTED)
                fail(p, k->at, "cannot define table '%s': already defined by dotted keys at line %u",
                     keystr(k->s, k->len, b), tbl->v.line);
        /* Created implicitly by an earlier header such as [a.b.c]; this is its definition. */
        tbl->flags |= F_EXPLICIT;
        tbl->v.line = line;
        tbl->v.column = col;
        return tbl;
}

static void parse_document(parser *p) {
        node *cur = p->root;
        char *q = p->p, b[32];

        for (;;) {
                q = skip_ws(q);
                switch (*q) {
                case '\n':
                        newline(p, ++q);
                        continue;
                case '\r':
                        if (q[1] != '\n')
                                fail(p, q, "carriage return not followed by a newline");
                        q += 2;
                        newline(p, q);
                        continue;
                case '#':
                        q = skip_comment(p, q);
                        continue;
                case '[':
                        p->p = q;
                        cur = parse_header(p);
                        break;
                case '\0':
                        if (q == p->end)
                                return;
                        __attribute__((fallthrough));
                default:
                        p->p = q;
                        parse_keyval(p, cur);
                        break;
                }
                q = skip_ws(p->p);
                if (*q == '#')
                        q = skip_comment(p, q);
                if (*q == '\n' || (*q == '\r' && q[1] == '\n'))
                        continue;
                if (q == p->end)
                        return;
                if (*q == '\r')
                        fail(p, q, "carriage return not followed by a newline");
                fail(p, q, "expected a newline or end of file, found %s", describe(p, q, b));
        }
}

/* Parses the len bytes of data, which must be followed by a NUL byte and live in block b; the
 * document takes ownership of b in all cases. */
static int parse_owned(block *b, char *data, size_t len, ks_toml_document **ret, ks_toml_error *reterr) {
        ks_toml_document *doc;
        parser *p;
        int r;

        doc = calloc(1, sizeof *doc);
        p = calloc(1, sizeof *p);
        if (!doc || !p) {
                free(b);
                free(doc);
                free(p);
                return -ENOMEM;
        }
        doc->blocks = b;
        p->doc = doc;
        p->reterr = reterr;
        p->main.block_size = p->grow.block_size = BLOCK_FIRST;
        p->buf = p->start = data;
        p->end = data + len;
        if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
                p->start += 3;
        p->p = p->start;
        p->line = 1;
        p->line_start = p->colpos = p->start;
        p->colval = 1;

        if (setjmp(p->jb)) {
                r = p->err;
                free(p->vstack);
                free(p);
                ks_toml_free(doc);
                return r;
        }
        p->root = node_new(p, KS_TOML_TABLE, 0, p->start, 1, 1);
        p->root->depth = 0;
        p->root->flags = F_EXPLICIT;
        parse_document(p);

        doc->root = &p->root->v;
        free(p->vstack);
        free(p);
        *ret = doc;
        return 0;
}

int ks_toml_parse(const char *buf, size_t len, ks_toml_document **ret, ks_toml_error *reterr) {
        size_t size;
        block *b;

        if (!ret || (!buf && len > 0))
                return -EINVAL;
        if (len >= UINT32_MAX) { /* positions and counts are 32-bit */
                if (reterr) {
                        reterr->line = reterr->column = 0;
                        snprintf(reterr->message, sizeof reterr->message, "document larger than 4 GiB");
                }
                return -EFBIG;
        }
        size = len + 1;
        b = block_new(&size);
        if (!b)
                return -ENOMEM;
        if (len)
                memcpy(b + 1, buf, len);
        ((char *) (b + 1))[len] = 0;
        return parse_owned(b, (char *) (b + 1), len, ret, reterr);
}

int ks_toml_parse_file(const char *path, ks_toml_document **ret, ks_toml_error *reterr) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ block *b = NULL;
        size_t size = 0, cap;
        struct stat st;
        char *data;

        if (!path || !ret)
                return -EINVAL;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                goto fail_errno;
        if (fstat(fd, &st) < 0)
                goto fail_errno;
        if (S_ISDIR(st.st_mode)) {
                errno = EISDIR;
                goto fail_errno;
        }
        /* The size is a hint only: files in /proc or being rewritten may differ. */
        cap = S_ISREG(st.st_mode) && st.st_size > 0 && (uint64_t) st.st_size < UINT32_MAX ? (size_t) st.st_size + 1 : 4096;
        for (;;) {
                ssize_t n;
                if (size + 1 >= cap || !b) {
                        block *nb;
                        if (b && cap >= UINT32_MAX) {
                                errno = EFBIG;
                                goto fail_errno;
                        }
                        if (b)
                                cap *= 2;
                        nb = realloc(b, sizeof(block) + cap);
                        if (!nb) {
                                errno = ENOMEM;
                                goto fail_errno;
                        }
                        b = nb;
                }
                n = read(fd, (char *) (b + 1) + size, cap - 1 - size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        goto fail_errno;
                }
                if (n == 0)
                        break;
                size += n;
        }
        data = (char *) (b + 1);
        data[size] = 0;
        b->next = NULL;
        return parse_owned(TAKE_PTR(b), data, size, ret, reterr);

fail_errno:
        {
                int r = negative_errno();
                if (reterr) {
                        reterr->line = reterr->column = 0;
                        snprintf(reterr->message, sizeof reterr->message, "%s", strerror(-r));
                }
                return r;
        }
}

ks_toml_document *ks_toml_free(ks_toml_document *doc) {
        if (!doc)
                return NULL;
        for (block *b = doc->blocks, *next; b; b = next) {
                next = b->next;
                free(b);
        }
        free(doc);
        return NULL;
}

const ks_toml_value *ks_toml_root(const ks_toml_document *doc) {
        return doc ? doc->root : NULL;
}

const char *ks_toml_type_to_string(ks_toml_type t) {
        static const char *const names[_KS_TOML_TYPE_MAX] = {
                [KS_TOML_STRING] = "string",
                [KS_TOML_INTEGER] = "integer",
                [KS_TOML_FLOAT] = "float",
                [KS_TOML_BOOL] = "boolean",
                [KS_TOML_DATETIME] = "offset date-time",
                [KS_TOML_DATETIME_LOCAL] = "local date-time",
                [KS_TOML_DATE_LOCAL] = "local date",
                [KS_TOML_TIME_LOCAL] = "local time",
                [KS_TOML_ARRAY] = "array",
                [KS_TOML_TABLE] = "table",
        };
        return (unsigned) t < _KS_TOML_TYPE_MAX ? names[t] : "invalid";
}

/* ---------------------------------------------------------------------------------------------
 * Lookups */

const ks_toml_value *ks_toml_table_getn(const ks_toml_value *table, const char *key, size_t len) {
        const ks_toml_keyval *kv;

        if (!table || table->type != KS_TOML_TABLE || !key)
                return NULL;
        kv = table_find((const node *) table, key, len);
        return kv ? kv->value : NULL;
}

const ks_toml_value *ks_toml_table_get(const ks_toml_value *table, const char *key) {
        return key ? ks_toml_table_getn(table, key, strlen(key)) : NULL;
}

static int get_typed(const ks_toml_value *table, const char *key, ks_toml_type type, const ks_toml_value **ret) {
        const ks_toml_value *v = ks_toml_table_get(table, key);

        if (!v)
                return -ENOENT;
        if (v->type != type)
                return -EMEDIUMTYPE;
        *ret = v;
        return 0;
}

int ks_toml_get_string(const ks_toml_value *table, const char *key, const char **ret) {
        const ks_toml_value *v;
        int r = get_typed(table, key, KS_TOML_STRING, &v);
        if (r < 0)
                return r;
        if (ret)
                *ret = v->string.str;
        return 0;
}

int ks_toml_get_integer(const ks_toml_value *table, const char *key, int64_t *ret) {
        const ks_toml_value *v;
        int r = get_typed(table, key, KS_TOML_INTEGER, &v);
        if (r < 0)
                return r;
        if (ret)
                *ret = v->integer;
        return 0;
}

int ks_toml_get_float(const ks_toml_value *table, const char *key, double *ret) {
        const ks_toml_value *v;
        int r = get_typed(table, key, KS_TOML_FLOAT, &v);
        if (r < 0)
                return r;
        if (ret)
                *ret = v->fp;
        return 0;
}

int ks_toml_get_bool(const ks_toml_value *table, const char *key, bool *ret) {
        const ks_toml_value *v;
        int r = get_typed(table, key, KS_TOML_BOOL, &v);
        if (r < 0)
                return r;
        if (ret)
                *ret = v->boolean;
        return 0;
}

int ks_toml_get_array(const ks_toml_value *table, const char *key, const ks_toml_value **ret) {
        const ks_toml_value *v;
        int r = get_typed(table, key, KS_TOML_ARRAY, &v);
        if (r < 0)
                return r;
        if (ret)
                *ret = v;
        return 0;
}

int ks_toml_get_table(const ks_toml_value *table, const char *key, const ks_toml_value **ret) {
        const ks_toml_value *v;
        int r = get_typed(table, key, KS_TOML_TABLE, &v);
        if (r < 0)
                return r;
        if (ret)
                *ret = v;
        return 0;
}

int ks_toml_value_to_duration(const ks_toml_value *v, uint64_t *ret_usec) {
        uint64_t usec;
        int r;

        if (!v)
                return -ENOENT;
        if (v->type == KS_TOML_INTEGER) {
                if (v->integer < 0 || (uint64_t) v->integer > UINT64_MAX / 1000000 - 1)
                        return -ERANGE;
                usec = (uint64_t) v->integer * 1000000;
        } else if (v->type == KS_TOML_STRING) {
                if (strlen(v->string.str) != v->string.len)
                        return -EINVAL;
                r = ks_parse_timespan(v->string.str, &usec);
                if (r < 0)
                        return r;
        } else
                return -EMEDIUMTYPE;
        if (ret_usec)
                *ret_usec = usec;
        return 0;
}

int ks_toml_get_duration(const ks_toml_value *table, const char *key, uint64_t *ret_usec) {
        const ks_toml_value *v = ks_toml_table_get(table, key);

        if (!v)
                return -ENOENT;
        return ks_toml_value_to_duration(v, ret_usec);
}
