/* Hot-path helpers: element operations on scalar keys and values without
 * building Python buffers.  Little-endian and big-endian hosts both work:
 * the scalar is stored in a variable of its own width. */
#include <errno.h>
#include <string.h>

union pybpfmap_scalar {
    __u8 b;
    __u16 h;
    __u32 w;
    __u64 q;
};

static inline void *pybpfmap_put_scalar(union pybpfmap_scalar *s, unsigned long long v, int size)
{
    switch (size) {
    case 1: s->b = (__u8)v; break;
    case 2: s->h = (__u16)v; break;
    case 4: s->w = (__u32)v; break;
    default: s->q = (__u64)v; break;
    }
    return s;
}

static inline unsigned long long pybpfmap_get_scalar(const union pybpfmap_scalar *s, int size)
{
    switch (size) {
    case 1: return s->b;
    case 2: return s->h;
    case 4: return s->w;
    default: return s->q;
    }
}

static int pybpfmap_lookup_sk(int fd, unsigned long long key, int key_size, void *value)
{
    union pybpfmap_scalar k;
    return bpf_map_lookup_elem(fd, pybpfmap_put_scalar(&k, key, key_size), value);
}

static int pybpfmap_update_sk(int fd, unsigned long long key, int key_size, const void *value,
                              unsigned long long flags)
{
    union pybpfmap_scalar k;
    return bpf_map_update_elem(fd, pybpfmap_put_scalar(&k, key, key_size), value, flags);
}

static unsigned long long pybpfmap_lookup_ss(int fd, unsigned long long key, int key_size,
                                             int value_size)
{
    union pybpfmap_scalar k, v;
    int err = bpf_map_lookup_elem(fd, pybpfmap_put_scalar(&k, key, key_size), &v);
    if (err) {
        errno = -err;
        return 0;
    }
    errno = 0;
    return pybpfmap_get_scalar(&v, value_size);
}

static int pybpfmap_update_ss(int fd, unsigned long long key, int key_size,
                              unsigned long long value, int value_size, unsigned long long flags)
{
    union pybpfmap_scalar k, v;
    return bpf_map_update_elem(fd, pybpfmap_put_scalar(&k, key, key_size),
                               pybpfmap_put_scalar(&v, value, value_size), flags);
}
