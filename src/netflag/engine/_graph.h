/* Friend lists for netflag's compiled core (_core.pyx): every list in one array, as a CSR
   graph, with room to grow. A list that outgrows its room moves to the array's end with
   twice the room, leaving a hole; `pack` (after a bulk load) closes the holes and lays the
   lists out in the order a search visits them. A list's holes add up to less than its
   room, since each was half the next: holes never take more than half the array. */
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
    bool packed = true;  /* the lists are laid out as pack() leaves them */

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
       bulk load's start. */
    void reserve(const std::vector<uint32_t> &degree) {
        size_t at = 0;
        for (size_t v = 0; v < heads.size(); v++) {
            heads[v] = head{at, 0, degree[v]};
            at += degree[v];
        }
        data.assign(at, 0);
        entries = 0;
        packed = false;
    }
    /* Close every hole and give each list exactly its size: the lists in breadth-first
       order from the best-connected user of each component, so that a search's next lists
       sit near the last ones. */
    void pack() {
        if (packed) return;
        std::vector<int32_t> order = visit_order();
        std::vector<int32_t> laid;
        laid.reserve(entries + entries / 4 + 1024);  /* the stream's first moves: no copy of it all */
        for (int32_t v : order) {
            head &h = heads[v];
            size_t at = laid.size();
            laid.insert(laid.end(), data.begin() + h.at, data.begin() + h.at + h.size);
            h.at = at;
            h.room = h.size;
        }
        data.swap(laid);
        packed = true;
    }

  private:
    /* Every user once: breadth first from each component's best-connected user. */
    std::vector<int32_t> visit_order() const {
        size_t n = heads.size();
        std::vector<int32_t> by_degree(n), order;
        for (size_t v = 0; v < n; v++) by_degree[v] = (int32_t)v;
        std::stable_sort(by_degree.begin(), by_degree.end(), [this](int32_t a, int32_t b) {
            return heads[a].size > heads[b].size;
        });
        std::vector<bool> seen(n, false);
        order.reserve(n);
        for (int32_t root : by_degree) {
            if (seen[root]) continue;
            seen[root] = true;
            order.push_back(root);
            for (size_t i = order.size() - 1; i < order.size(); i++) {
                const int32_t *p = row(order[i]);
                for (uint32_t j = 0, m = heads[order[i]].size; j < m; j++) {
                    if (!seen[p[j]]) {
                        seen[p[j]] = true;
                        order.push_back(p[j]);
                    }
                }
            }
        }
        return order;
    }
};
