# The C++ helpers of _core_support.h, as _core.pyx and its kernels call them.

cdef extern from "_core_support.h" nogil:
    cppclass nf_names:
        vector[string] names
        int32_t find(const char *p, size_t n, size_t *slot_at)
        int32_t intern(const char *p, size_t n)
    struct nf_entry:
        int64_t ts
        int64_t seq
        int64_t units
        int32_t owner
        int32_t gone
    struct nf_head:
        int64_t ts
        int64_t seq
        int32_t member
        int32_t pos
    cppclass nf_recency:
        vector[nf_entry] index
        vector[nf_entry] side
        size_t dead
        size_t live()
        void add(const nf_entry &e)
        void retire(const nf_entry &e)
        void compact()
        void scale(int64_t factor)
    cppclass nf_graph:
        size_t entries
        size_t users()
        void resize(size_t users)
        const int32_t *row(int32_t v)
        uint32_t degree(int32_t v)
        bint linked(int32_t a, int32_t b)
        void link(int32_t a, int32_t b)
        void unlink(int32_t a, int32_t b)
        void reserve(const vector[uint32_t] &degree)
        void pack()
    cppclass nf_bits:
        void resize(size_t users)
        bint has(int32_t v)
        bint add(int32_t v)
        void clear()
    size_t NF_AHEAD
    void nf_ask(const nf_graph &graph, int32_t far, int32_t near)
    void nf_grow_layer(nf_bits &mark, vector[int32_t] &queue, const nf_graph &graph,
                       size_t start, size_t stop, size_t room)
    void nf_spread_layer(nf_bits &mark, const vector[int32_t] &queue, const nf_graph &graph,
                         size_t start, size_t stop)
    ctypedef unsigned long long nf_u128  # really unsigned __int128: only + and the helpers
    bint nf_less(const nf_entry &a, const nf_entry &b)
    bint nf_retire(vector[nf_entry] &v, const nf_entry &e)
    void nf_heap_make(vector[nf_head] &h)
    void nf_heap_pop(vector[nf_head] &h)
    void nf_heap_push(vector[nf_head] &h)
    void nf_select(vector[nf_head] &h, size_t count)
    uint64_t nf_lo(nf_u128 x)
    uint64_t nf_hi(nf_u128 x)
    nf_u128 nf_square(int64_t x)
    void nf_scan_marked(const nf_recency &recency, const nf_bits &mark, int32_t user, int64_t T,
                        int64_t *n, nf_u128 *s1, nf_u128 *s2)
    void nf_sort_ids(vector[int32_t] &v, const vector[string] &names)
    void nf_top(vector[int32_t] &v, size_t count, const vector[int32_t] &tally,
                const vector[string] &names)

