# The C++ helpers _shard.pyx uses, declared: its own (_shard_support.h) and the compiled
# core's it shares (_core_support.h).

cdef extern from "_core_support.h" nogil:
    struct nf_entry:
        int64_t ts
        int64_t seq
        int64_t units
        int32_t owner
        int32_t gone
    cppclass nf_recency:
        vector[nf_entry] index
        void add(const nf_entry &e)
        void retire(const nf_entry &e)
        void scale(int64_t factor)
    cppclass nf_names:
        int32_t find(const char *p, size_t n, size_t *slot_at)
        int32_t intern(const char *p, size_t n)
    cppclass nf_bits:
        void resize(size_t users)
        bint has(int32_t v)
        bint add(int32_t v)
        void clear()
    ctypedef unsigned long long nf_u128  # really unsigned __int128: only + and the helpers
    uint64_t nf_lo(nf_u128 x)
    uint64_t nf_hi(nf_u128 x)
    nf_u128 nf_square(int64_t x)

cdef extern from "_shard_support.h" nogil:
    cppclass nf_modulo:
        void set(uint64_t divisor)
        uint64_t of(uint64_t x)
    cppclass nf_keyset:
        bint add(int64_t key)
        void clear()
    cppclass nf_keys:
        int32_t find(int64_t key)
        void put(int64_t key, int32_t number)
    struct nf_bought:
        int64_t ts
        int64_t seq
        int64_t units
    struct nf_link:
        int64_t seq
        int64_t friend_key
        int32_t added
    bint nf_older(const nf_bought &a, const nf_bought &b)
    bint nf_offer(vector[nf_bought] &top, size_t T, const nf_bought &e)
    void nf_keep(vector[nf_bought] &tail, size_t T, const nf_bought &e)
    void nf_relink(vector[int64_t] &friends, int64_t key, bint added)
    bint nf_walk_marked(const nf_recency &r, const nf_bits &mark, size_t want, size_t budget,
                        vector[nf_entry] &out, size_t *looked)
