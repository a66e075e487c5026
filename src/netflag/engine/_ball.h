/* A search's ball for netflag's compiled core (_core.pyx): users as bits (a compiled
   shard's marks too, _shard.pyx), and the kernels that grow it a layer at a time over the
   friend lists (_graph.h). */
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>
#include "_graph.h"
/* Users as bits: a search's ball. 1M users take 122 KiB, which stays in L2, where one
   32-bit stamp a user took 4 MiB. `dirty[0, touched)` lists the words set, so a clear costs
   the ball's size, not the graph's; it has a slot per word, so a word is listed with no
   branch (written always, counted when it was empty). */
struct nf_bits {
    std::vector<uint64_t> words;
    std::vector<uint32_t> dirty;
    size_t touched = 0;
    bool wide = false;  /* bits were set by nf_spread_layer: the next clear zeroes every word */
    void resize(size_t users) {
        words.resize((users + 63) / 64, 0);
        dirty.resize(words.size() + 1);  /* the last write past a full list is never counted */
    }
    bool has(int32_t v) const { return (words[(uint32_t)v >> 6] >> (v & 63)) & 1; }
    /* Set v's bit; false when it was set already. */
    bool add(int32_t v) {
        uint32_t k = (uint32_t)v >> 6;
        uint64_t w = words[k], bit = (uint64_t)1 << (v & 63);
        dirty[touched] = k;
        touched += (w == 0);
        words[k] = w | bit;
        return (w & bit) == 0;
    }
    void clear() {
        if (wide) {
            std::fill(words.begin(), words.end(), 0);
            wide = false;
        } else {
            for (size_t i = 0; i < touched; i++) words[dirty[i]] = 0;
        }
        touched = 0;
    }
};
/* A hint that p is read soon: a walk or a growth asks for its next users' data. As an asm
   statement on x86, since GCC 12 drops a loop's __builtin_prefetch pairs in some loops
   (the ball's spread had none left in the binary). */
static inline void nf_prefetch(const void *p) {
#if defined(__x86_64__) || defined(__i386__)
    asm volatile("prefetcht2 %0" : : "m"(*(const char *)p));
#else
    __builtin_prefetch(p, 0, 1);
#endif
}
/* A walk or a growth reads the friend list of the user this many steps on (its header; the
   list's own entries at half the distance): at a million users each is a miss to memory. */
static const size_t NF_AHEAD = 8;
/* Ask for the head of user `far` and the list of user `near` (whose head came earlier). */
static inline void nf_ask(const nf_graph &graph, int32_t far, int32_t near) {
    nf_prefetch(graph.head_of(far));
    nf_prefetch(graph.row(near));
}
static inline void nf_ahead(const nf_graph &graph, const int32_t *q, size_t i, size_t stop) {
    if (i + NF_AHEAD < stop) nf_ask(graph, q[i + NF_AHEAD], q[i + NF_AHEAD / 2]);
}
/* One layer of a ball's growth: the friends of queue[start, stop) not yet in `mark` are
   marked and appended to `queue`. No branch on whether a friend is new, a coin toss in a
   growing ball: each is written at the queue's end and counted in or not, so the queue
   needs `room` slots, the layer's degree sum, first. */
static inline void nf_grow_layer(nf_bits &mark, std::vector<int32_t> &queue,
                                 const nf_graph &graph, size_t start, size_t stop,
                                 size_t room) {
    size_t n = queue.size();
    queue.resize(n + room);
    int32_t *q = queue.data();
    uint64_t *words = mark.words.data();
    uint32_t *dirty = mark.dirty.data();
    size_t touched = mark.touched;
    for (size_t i = start; i < stop; i++) {
        nf_ahead(graph, q, i, stop);
        const int32_t *p = graph.row(q[i]);
        for (size_t j = 0, m = graph.degree(q[i]); j < m; j++) {
            int32_t y = p[j];
            uint32_t k = (uint32_t)y >> 6;
            uint64_t w = words[k], bit = (uint64_t)1 << (y & 63);
            dirty[touched] = k;
            touched += (w == 0);
            words[k] = w | bit;
            q[n] = y;
            n += (w & bit) == 0;
        }
    }
    queue.resize(n);
    mark.touched = touched;
}
/* The ball's next layer as bits alone: the friends of queue[start, stop) OR-ed into `mark`,
   no test, no queue, no record (the next clear zeroes every word): what a scan needs of a
   network's last layer, which no one needs as a list. */
static inline void nf_spread_layer(nf_bits &mark, const std::vector<int32_t> &queue,
                                   const nf_graph &graph, size_t start, size_t stop) {
    uint64_t *words = mark.words.data();
    const int32_t *q = queue.data();
    mark.wide = true;
    for (size_t i = start; i < stop; i++) {
        nf_ahead(graph, q, i, stop);
        const int32_t *p = graph.row(q[i]);
        for (size_t j = 0, m = graph.degree(q[i]); j < m; j++)
            words[(uint32_t)p[j] >> 6] |= (uint64_t)1 << (p[j] & 63);
    }
}
