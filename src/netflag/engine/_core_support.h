/* C++ pieces of netflag's compiled core (_core.pyx): plain structs, the id table,
   heap helpers and 128-bit sums. Included by the generated _core.cpp only. */
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>
#include "_ball.h"  /* nf_bits and the ball's growth */
/* User ids and their numbers: ids in one vector, an open-addressing table of
   (hash tag, number + 1) slots over it: one probe is one flat-array read. */
struct nf_names {
    std::vector<std::string> names;
    std::vector<uint64_t> slots;
    size_t mask;
    nf_names() : slots(1024, 0), mask(1023) {}
    static uint64_t hash(const char *p, size_t n) {
        return std::hash<std::string_view>()(std::string_view(p, n));
    }
    int32_t find(const char *p, size_t n, size_t *slot_at) const {
        uint64_t h = hash(p, n);
        uint32_t tag = (uint32_t)(h >> 32);
        size_t i = (size_t)h & mask;
        for (;;) {
            uint64_t s = slots[i];
            if (s == 0) { if (slot_at) *slot_at = i; return -1; }
            if ((uint32_t)(s >> 32) == tag) {
                int32_t number = (int32_t)(uint32_t)s - 1;
                const std::string &name = names[number];
                if (name.size() == n && std::memcmp(name.data(), p, n) == 0) return number;
            }
            i = (i + 1) & mask;
        }
    }
    int32_t intern(const char *p, size_t n) {
        size_t at = 0;
        int32_t found = find(p, n, &at);
        if (found >= 0) return found;
        int32_t number = (int32_t)names.size();
        names.emplace_back(p, n);
        slots[at] = (hash(p, n) >> 32 << 32) | (uint64_t)(uint32_t)(number + 1);
        if (names.size() * 2 > slots.size()) rehash();
        return number;
    }
    void rehash() {
        std::vector<uint64_t> old(slots.size() * 2, 0);
        old.swap(slots);
        mask = slots.size() - 1;
        for (uint64_t s : old) {
            if (!s) continue;
            const std::string &name = names[(uint32_t)s - 1];
            size_t i = (size_t)hash(name.data(), name.size()) & mask;
            while (slots[i]) i = (i + 1) & mask;
            slots[i] = s;
        }
    }
};
/* A kept purchase. `gone` (in what would be padding) is set on the index's copy once the
   purchase leaves its owner's tail: a walk of the index tests it without reading the owner. */
struct nf_entry { int64_t ts; int64_t seq; int64_t units; int32_t owner; int32_t gone; };
static inline bool nf_less(const nf_entry &a, const nf_entry &b) {
    return a.ts < b.ts || (a.ts == b.ts && a.seq < b.seq);
}
struct nf_less_t {
    bool operator()(const nf_entry &a, const nf_entry &b) const { return nf_less(a, b); }
};
/* Mark the entry with e's key in sorted `v` as gone; false when v does not hold it. */
static inline bool nf_retire(std::vector<nf_entry> &v, const nf_entry &e) {
    auto at = std::lower_bound(v.begin(), v.end(), e, nf_less_t());
    if (at == v.end() || at->seq != e.seq || at->ts != e.ts) return false;
    at->gone = 1;
    return true;
}
/* Every kept purchase by key (the recency index): `index` ascending, late arrivals in the small
   sorted `side` array, and `dead` evicted entries still in either, marked gone, until a
   compaction drops them. The compiled core's and a compiled shard's (_history.pxi, _shard.pyx). */
struct nf_recency {
    std::vector<nf_entry> index;
    std::vector<nf_entry> side;
    size_t dead = 0;
    size_t live() const { return index.size() + side.size() - dead; }
    /* Keep `e`: appended when it is the newest, else into the side array. */
    void add(const nf_entry &e) {
        if (index.empty() || nf_less(index.back(), e)) index.push_back(e);
        else insert_side(e);
        if (dead > 1024 && dead * 2 > index.size() + side.size()) compact();
    }
    /* `e` left its owner's tail: marked gone where it is. */
    void retire(const nf_entry &e) {
        if (!nf_retire(index, e)) nf_retire(side, e);
        dead += 1;
    }
    /* A late arrival, in order; the side array is merged in past max(4096, sqrt(index)). */
    void insert_side(const nf_entry &e) {
        side.push_back(e);
        size_t i = side.size() - 1;
        while (i > 0 && nf_less(e, side[i - 1])) {
            side[i] = side[i - 1];
            i--;
        }
        side[i] = e;
        size_t limit = 4096;
        while (limit * limit < index.size()) limit *= 2;
        if (side.size() > limit) compact();
    }
    /* Merge the side array into the index and drop evicted entries: one linear pass. */
    void compact() {
        std::vector<nf_entry> merged;
        merged.reserve(index.size() + side.size() - dead);
        size_t i = 0, j = 0, n = index.size(), m = side.size();
        while (i < n || j < m) {
            const nf_entry *e = (j >= m || (i < n && nf_less(index[i], side[j]))) ? &index[i++]
                                                                                  : &side[j++];
            if (!e->gone) merged.push_back(*e);
        }
        index.swap(merged);
        side.clear();
        dead = 0;
    }
    void scale(int64_t factor) {
        for (nf_entry &e : index) e.units *= factor;
        for (nf_entry &e : side) e.units *= factor;
    }
};
/* A heap item of the members' merge: the key of tails[member][pos]. */
struct nf_head { int64_t ts; int64_t seq; int32_t member; int32_t pos; };
struct nf_head_less {
    bool operator()(const nf_head &a, const nf_head &b) const {
        return a.ts < b.ts || (a.ts == b.ts && a.seq < b.seq);
    }
};
static inline void nf_heap_make(std::vector<nf_head> &h) {
    std::make_heap(h.begin(), h.end(), nf_head_less());
}
static inline void nf_heap_pop(std::vector<nf_head> &h) {
    std::pop_heap(h.begin(), h.end(), nf_head_less());
}
static inline void nf_heap_push(std::vector<nf_head> &h) {
    std::push_heap(h.begin(), h.end(), nf_head_less());
}
/* Keep the `count` heads with the newest keys in front (no full sort). */
static inline void nf_select(std::vector<nf_head> &h, size_t count) {
    if (count < h.size()) {
        std::nth_element(h.begin(), h.begin() + count, h.end(),
                         [](const nf_head &a, const nf_head &b) {
                             return b.ts < a.ts || (b.ts == a.ts && b.seq < a.seq);
                         });
        h.resize(count);
    }
}
/* Exact sums: 128-bit, split into halves for Python. */
typedef unsigned __int128 nf_u128;
/* The scan of a complete ball: the index and the side array newest first, the entries of
   marked owners (not `user`, not gone) summed until `T` of them. No branch on membership,
   a coin toss in a big network: each entry is written to `picked` and counted in or not,
   and only the picks are summed, up to 1,024 at a time. */
static inline void nf_scan_marked(const nf_recency &recency, const nf_bits &mark, int32_t user,
                                  int64_t T, int64_t *n, nf_u128 *s1, nf_u128 *s2) {
    const std::vector<nf_entry> &index = recency.index, &side = recency.side;
    const uint64_t *words = mark.words.data();
    ptrdiff_t i = (ptrdiff_t)index.size() - 1, j = (ptrdiff_t)side.size() - 1;
    const nf_entry *picked[1024];
    int64_t count = *n;
    nf_u128 sum = *s1, squares = *s2;
    while ((i >= 0 || j >= 0) && count < T) {
        int64_t want = std::min<int64_t>(T - count, 1024), got = 0;
        while ((i >= 0 || j >= 0) && got < want) {
            const nf_entry *e;
            if (j < 0 || (i >= 0 && nf_less(side[j], index[i]))) e = &index[i--];
            else e = &side[j--];
            uint32_t owner = (uint32_t)e->owner;
            picked[got] = e;
            got += ((words[owner >> 6] >> (owner & 63)) & 1) & (e->gone == 0) & (e->owner != user);
        }
        for (int64_t k = 0; k < got; k++) {
            uint64_t units = (uint64_t)picked[k]->units;
            sum += units;
            squares += (nf_u128)units * units;
        }
        count += got;
    }
    *n = count;
    *s1 = sum;
    *s2 = squares;
}
static inline uint64_t nf_lo(nf_u128 x) { return (uint64_t)x; }
static inline uint64_t nf_hi(nf_u128 x) { return (uint64_t)(x >> 64); }
static inline nf_u128 nf_square(int64_t x) { return (nf_u128)x * (nf_u128)x; }
/* The id order of netflag.engine.ids.id_order: plain numbers (ASCII digits only)
   first, by value, equal values by text; then every other id by text. Text is
   compared as UTF-8 bytes, which orders like the code points Python compares. */
static inline bool nf_digits(const std::string &s) {
    if (s.empty()) return false;
    for (unsigned char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}
static inline bool nf_id_less(const std::string &a, const std::string &b) {
    bool da = nf_digits(a), db = nf_digits(b);
    if (da != db) return da;
    if (da) {
        size_t za = a.find_first_not_of('0'), zb = b.find_first_not_of('0');
        if (za == std::string::npos) za = a.size();
        if (zb == std::string::npos) zb = b.size();
        size_t la = a.size() - za, lb = b.size() - zb;
        if (la != lb) return la < lb;
        int c = a.compare(za, la, b, zb, lb);
        if (c != 0) return c < 0;
    }
    return a < b;
}
/* Users by id order, in place. */
static inline void nf_sort_ids(std::vector<int32_t> &v, const std::vector<std::string> &names) {
    std::sort(v.begin(), v.end(), [&names](int32_t a, int32_t b) {
        return nf_id_less(names[a], names[b]);
    });
}
/* The `count` best candidates in front, in order: more mutual friends (tally), then id. */
static inline void nf_top(std::vector<int32_t> &v, size_t count, const std::vector<int32_t> &tally,
                   const std::vector<std::string> &names) {
    auto better = [&tally, &names](int32_t a, int32_t b) {
        if (tally[a] != tally[b]) return tally[a] > tally[b];
        return nf_id_less(names[a], names[b]);
    };
    if (count < v.size()) {
        std::partial_sort(v.begin(), v.begin() + count, v.end(), better);
        v.resize(count);
    } else {
        std::sort(v.begin(), v.end(), better);
    }
}
