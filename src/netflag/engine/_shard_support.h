/* C++ pieces of a compiled shard (_shard.pyx): its key table, the epoch's pair sets and a
   kept purchase. Included by the generated _shard.cpp only. */
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>
#include "_core_support.h"  /* nf_entry, nf_recency, nf_bits: the recency index and its marks */

/* Keys are 63-bit hashes, but a shard's keys all share their residue mod P: the table
   takes its slot from a multiplication's high bits, never the key's low ones. */
static inline size_t nf_slot(uint64_t x, int shift) {
    return (size_t)((x * 0x9E3779B97F4A7C15ull) >> shift);
}

/* A set of keys (>= 0) for one check at a time: open addressing, -1 is empty; clear()
   empties only the slots it filled. The remote ids a check has sent, loaded per round. */
struct nf_keyset {
    std::vector<int64_t> keys;
    std::vector<uint32_t> filled;
    int shift = 64 - 10;
    nf_keyset() : keys(1024, -1) {}
    /* Add `key`; false when it was in already. */
    bool add(int64_t key) {
        size_t mask = keys.size() - 1;
        size_t i = nf_slot((uint64_t)key, shift);
        for (;; i = (i + 1) & mask) {
            if (keys[i] == key) return false;
            if (keys[i] < 0) break;
        }
        keys[i] = key;
        filled.push_back((uint32_t)i);
        if (filled.size() * 2 > keys.size()) grow();
        return true;
    }
    void grow() {
        std::vector<int64_t> old(keys.size() * 2, -1);
        old.swap(keys);
        shift -= 1;
        std::vector<uint32_t> was;
        was.swap(filled);
        for (uint32_t i : was) add(old[i]);
    }
    void clear() {
        for (uint32_t i : filled) keys[i] = -1;
        filled.clear();
    }
};

/* Keys (>= 0) to local numbers: the same open addressing, one array of keys, one of numbers. */
struct nf_keys {
    std::vector<int64_t> keys;
    std::vector<int32_t> numbers;
    size_t used = 0;
    int shift = 64 - 10;
    nf_keys() : keys(1024, -1), numbers(1024, 0) {}
    /* The number of `key`, or -1. */
    int32_t find(int64_t key) const {
        size_t mask = keys.size() - 1;
        for (size_t i = nf_slot((uint64_t)key, shift);; i = (i + 1) & mask) {
            if (keys[i] == key) return numbers[i];
            if (keys[i] < 0) return -1;
        }
    }
    /* Give `key` (not in yet) the number `number`. */
    void put(int64_t key, int32_t number) {
        size_t mask = keys.size() - 1;
        size_t i = nf_slot((uint64_t)key, shift);
        while (keys[i] >= 0) i = (i + 1) & mask;
        keys[i] = key;
        numbers[i] = number;
        if (++used * 2 > keys.size()) {
            std::vector<int64_t> k(keys.size() * 2, -1);
            std::vector<int32_t> n(keys.size() * 2, 0);
            k.swap(keys);
            n.swap(numbers);
            shift -= 1;
            used = 0;
            for (size_t j = 0; j < k.size(); j++)
                if (k[j] >= 0) put(k[j], n[j]);
        }
    }
};

/* x % d without a division (Lemire's fastmod, exact for every 64-bit x): the owner of each
   friend a round expands, where a 64-bit division was a quarter of the round's time. */
struct nf_modulo {
    unsigned __int128 M = 0;  /* 2^128 / d rounded up; 0 when d = 1, which gives 0 */
    uint64_t d = 1;
    void set(uint64_t divisor) {
        d = divisor;
        M = ~(unsigned __int128)0 / d + 1;
    }
    uint64_t of(uint64_t x) const {
        unsigned __int128 low = M * x;
        unsigned __int128 bottom = ((unsigned __int128)(uint64_t)low * d) >> 64;
        unsigned __int128 top = (unsigned __int128)(uint64_t)(low >> 64) * d;
        return (uint64_t)((bottom + top) >> 64);
    }
};

/* A kept purchase on a shard: its key (ts, seq) and its units. */
struct nf_bought { int64_t ts; int64_t seq; int64_t units; };
static inline bool nf_older(const nf_bought &a, const nf_bought &b) {
    return a.ts < b.ts || (a.ts == b.ts && a.seq < b.seq);
}
/* The newest first in a heap's front: std::*_heap with this keeps the oldest on top. */
struct nf_newer_t {
    bool operator()(const nf_bought &a, const nf_bought &b) const { return nf_older(b, a); }
};
/* Offer `e` to `top`, the newest `T` seen so far (a heap, the oldest on top); false when
   `e` is older than all of a full `top`: nothing older from the same tail can enter. */
static inline bool nf_offer(std::vector<nf_bought> &top, size_t T, const nf_bought &e) {
    if (top.size() < T) {
        top.push_back(e);
        std::push_heap(top.begin(), top.end(), nf_newer_t());
        return true;
    }
    if (!nf_older(top.front(), e)) return false;
    std::pop_heap(top.begin(), top.end(), nf_newer_t());
    top.back() = e;
    std::push_heap(top.begin(), top.end(), nf_newer_t());
    return true;
}
/* Keep `e` in `tail` (ascending, at most T): the history.History.add rule. A full tail
   shifts in place (its oldest out); a growing one doubles from 8, never past T, as the
   compiled core's tails do: no tail holds room it can never use. */
static inline void nf_keep(std::vector<nf_bought> &tail, size_t T, const nf_bought &e) {
    size_t i;
    if (tail.size() == T) {
        if (nf_older(e, tail.front())) return;
        for (i = 0; i + 1 < T && nf_older(tail[i + 1], e); i++) tail[i] = tail[i + 1];
        tail[i] = e;
        return;
    }
    if (tail.size() == tail.capacity())
        tail.reserve(std::min(T, std::max<size_t>(8, 2 * tail.size())));
    tail.push_back(e);
    for (i = tail.size() - 1; i > 0 && nf_older(e, tail[i - 1]); i--) tail[i] = tail[i - 1];
    tail[i] = e;
}
/* One side of a befriend (added = 1) or unfriend (0) in an epoch's delta, with its seq. */
struct nf_link { int64_t seq; int64_t friend_key; int32_t added; };
/* A befriend or unfriend on a friend list of keys, which holds each friend once. */
static inline void nf_relink(std::vector<int64_t> &friends, int64_t key, bool added) {
    auto at = std::find(friends.begin(), friends.end(), key);
    if (added && at == friends.end()) {
        friends.push_back(key);
    } else if (!added && at != friends.end()) {
        *at = friends.back();
        friends.pop_back();
    }
}
/* The gather's walk: the recency index newest first, taking the entries of marked owners
   (not gone) into `out` until `want` are taken or `budget` entries were looked at (counted
   in `looked`). True when `out` is the newest `want` of the marked, or all of them. */
static inline bool nf_walk_marked(const nf_recency &r, const nf_bits &mark, size_t want,
                                  size_t budget, std::vector<nf_entry> &out, size_t *looked) {
    ptrdiff_t i = (ptrdiff_t)r.index.size() - 1, j = (ptrdiff_t)r.side.size() - 1;
    size_t seen = 0;
    while ((i >= 0 || j >= 0) && out.size() < want && seen < budget) {
        const nf_entry *e = (j < 0 || (i >= 0 && nf_less(r.side[j], r.index[i]))) ? &r.index[i--]
                                                                                  : &r.side[j--];
        seen++;
        if (!e->gone && mark.has(e->owner)) out.push_back(*e);
    }
    *looked += seen;
    return out.size() == want || (i < 0 && j < 0);
}

