/* Friend lists for netflag's compiled core (_core.pyx): every list in one array, as a CSR
   graph, with room to grow. A list that outgrows its room moves to the array's end with
   twice the room, leaving a hole; `pack` (after a bulk load) closes the holes. A list's
   holes add up to less than its room, since each was half the next: holes never take
   more than half the array. */
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>
struct nf_graph {
    /* User v's friends are data[at, at + size); data[at + size, at + room) is free. */
    struct head { uint64_t at; uint32_t size; uint32_t room; };
    std::vector<head> heads;
    std::vector<int32_t> data;
    size_t entries = 0;  /* friends listed: twice the friendships */
    bool packed = true;  /* the lists sit in user order with no holes */

    size_t users() const { return heads.size(); }
    void resize(size_t users) { heads.resize(users, head{0, 0, 0}); }
    const int32_t *row(int32_t v) const { return data.data() + heads[v].at; }
    uint32_t degree(int32_t v) const { return heads[v].size; }
    /* What a search reads of v next: its head, then its list. */
    const void *head_of(int32_t v) const { return &heads[v]; }
    bool linked(int32_t a, int32_t b) const {
        if (heads[b].size < heads[a].size) std::swap(a, b);
        const int32_t *p = row(a);
        return std::find(p, p + heads[a].size, b) != p + heads[a].size;
    }
    /* Append b to a's list. */
    void link(int32_t a, int32_t b) {
        head &h = heads[a];
        if (h.size == h.room) {
            uint32_t room = h.room < 2 ? 2 : 2 * h.room;
            size_t at = data.size();
            data.resize(at + room);
            std::copy(data.begin() + h.at, data.begin() + h.at + h.size, data.begin() + at);
            h.at = at;
            h.room = room;
            packed = false;
        }
        data[h.at + h.size++] = b;
        entries += 1;
    }
    /* Remove b from a's list (the last friend takes its place). */
    void unlink(int32_t a, int32_t b) {
        head &h = heads[a];
        int32_t *p = data.data() + h.at;
        for (uint32_t i = 0; i < h.size; i++) {
            if (p[i] == b) {
                p[i] = p[h.size - 1];
                h.size -= 1;
                entries -= 1;
                return;
            }
        }
    }
    /* Room for `degree[v]` friends of each user v, lists in user order, all empty: the
       bulk load's start, packed once its links fill every list. */
    void reserve(const std::vector<uint32_t> &degree) {
        size_t at = 0;
        for (size_t v = 0; v < heads.size(); v++) {
            heads[v] = head{at, 0, degree[v]};
            at += degree[v];
        }
        data.reserve(headroom(at));
        data.assign(at, 0);
        entries = 0;
    }
    /* Close every hole and give each list exactly its size, the lists in user order
       (breadth-first and degree orders measured no faster: docs/benchmarks.md). */
    void pack() {
        if (packed) return;
        std::vector<int32_t> laid;
        laid.reserve(headroom(entries));
        for (head &h : heads) {
            size_t at = laid.size();
            laid.insert(laid.end(), data.begin() + h.at, data.begin() + h.at + h.size);
            h.at = at;
            h.room = h.size;
        }
        data.swap(laid);
        packed = true;
    }

  private:
    /* Room past `n` slots for the first lists that move: no copy of the whole array then. */
    static size_t headroom(size_t n) { return n + n / 4 + 1024; }
};
