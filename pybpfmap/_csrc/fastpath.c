/* Hot-path helpers: element operations on integer keys and values passed by
 * value (see _cdefs/fastpath.h), so that m[k] on a u32 -> u64 map costs
 * one cffi call and no Python buffer. */
#include <errno.h>
#include <stdint.h>

#define PYBPFMAP_KEYED(KN, KT)                                                  \
    static int pybpfmap_getbuf_##KN(int fd, KT key, void *value)               \
    {                                                                           \
        return bpf_map_lookup_elem(fd, &key, value);                            \
    }

#define PYBPFMAP_SCALAR(KN, KT, VN, VT)                                         \
    static VT pybpfmap_get_##KN##_##VN(int fd, KT key)                         \
    {                                                                           \
        VT value;                                                               \
        int err = bpf_map_lookup_elem(fd, &key, &value);                        \
        errno = err ? -err : 0;                                                 \
        return err ? 0 : value;                                                 \
    }                                                                           \
    static int pybpfmap_put_##KN##_##VN(int fd, KT key, VT value,              \
                                        unsigned long long flags)               \
    {                                                                           \
        return bpf_map_update_elem(fd, &key, &value, flags);                    \
    }

#define PYBPFMAP_SCALARS(KN, KT)                                                \
    PYBPFMAP_KEYED(KN, KT)                                                      \
    PYBPFMAP_SCALAR(KN, KT, u32, uint32_t)                                      \
    PYBPFMAP_SCALAR(KN, KT, s32, int32_t)                                       \
    PYBPFMAP_SCALAR(KN, KT, u64, uint64_t)                                      \
    PYBPFMAP_SCALAR(KN, KT, s64, int64_t)

PYBPFMAP_SCALARS(u32, uint32_t)
PYBPFMAP_SCALARS(s32, int32_t)
PYBPFMAP_SCALARS(u64, uint64_t)
PYBPFMAP_SCALARS(s64, int64_t)
