/* cdefs for the hot-path helpers (pybpfmap/_csrc/fastpath.c).
 *
 * Element operations on maps whose keys (and values) are 32- or 64-bit
 * integers, passed and returned by value: cffi converts and range-checks
 * them (OverflowError, TypeError), and Python builds no buffer at all.
 * pybpfmap_get_K_V returns the value, or 0 with errno set (0 on success). */

int pybpfmap_getbuf_u32(int fd, uint32_t key, void *value);
int pybpfmap_getbuf_s32(int fd, int32_t key, void *value);
int pybpfmap_getbuf_u64(int fd, uint64_t key, void *value);
int pybpfmap_getbuf_s64(int fd, int64_t key, void *value);

uint32_t pybpfmap_get_u32_u32(int fd, uint32_t key);
int pybpfmap_put_u32_u32(int fd, uint32_t key, uint32_t value, unsigned long long flags);
int32_t pybpfmap_get_u32_s32(int fd, uint32_t key);
int pybpfmap_put_u32_s32(int fd, uint32_t key, int32_t value, unsigned long long flags);
uint64_t pybpfmap_get_u32_u64(int fd, uint32_t key);
int pybpfmap_put_u32_u64(int fd, uint32_t key, uint64_t value, unsigned long long flags);
int64_t pybpfmap_get_u32_s64(int fd, uint32_t key);
int pybpfmap_put_u32_s64(int fd, uint32_t key, int64_t value, unsigned long long flags);
uint32_t pybpfmap_get_s32_u32(int fd, int32_t key);
int pybpfmap_put_s32_u32(int fd, int32_t key, uint32_t value, unsigned long long flags);
int32_t pybpfmap_get_s32_s32(int fd, int32_t key);
int pybpfmap_put_s32_s32(int fd, int32_t key, int32_t value, unsigned long long flags);
uint64_t pybpfmap_get_s32_u64(int fd, int32_t key);
int pybpfmap_put_s32_u64(int fd, int32_t key, uint64_t value, unsigned long long flags);
int64_t pybpfmap_get_s32_s64(int fd, int32_t key);
int pybpfmap_put_s32_s64(int fd, int32_t key, int64_t value, unsigned long long flags);
uint32_t pybpfmap_get_u64_u32(int fd, uint64_t key);
int pybpfmap_put_u64_u32(int fd, uint64_t key, uint32_t value, unsigned long long flags);
int32_t pybpfmap_get_u64_s32(int fd, uint64_t key);
int pybpfmap_put_u64_s32(int fd, uint64_t key, int32_t value, unsigned long long flags);
uint64_t pybpfmap_get_u64_u64(int fd, uint64_t key);
int pybpfmap_put_u64_u64(int fd, uint64_t key, uint64_t value, unsigned long long flags);
int64_t pybpfmap_get_u64_s64(int fd, uint64_t key);
int pybpfmap_put_u64_s64(int fd, uint64_t key, int64_t value, unsigned long long flags);
uint32_t pybpfmap_get_s64_u32(int fd, int64_t key);
int pybpfmap_put_s64_u32(int fd, int64_t key, uint32_t value, unsigned long long flags);
int32_t pybpfmap_get_s64_s32(int fd, int64_t key);
int pybpfmap_put_s64_s32(int fd, int64_t key, int32_t value, unsigned long long flags);
uint64_t pybpfmap_get_s64_u64(int fd, int64_t key);
int pybpfmap_put_s64_u64(int fd, int64_t key, uint64_t value, unsigned long long flags);
int64_t pybpfmap_get_s64_s64(int fd, int64_t key);
int pybpfmap_put_s64_s64(int fd, int64_t key, int64_t value, unsigned long long flags);
