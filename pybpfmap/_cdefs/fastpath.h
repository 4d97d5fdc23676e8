/* cdefs for the hot-path helpers (pybpfmap/_csrc/fastpath.c). */

/* Lookup/update with a scalar key of key_size (1, 2, 4 or 8) bytes passed by
 * value: no key buffer to build in Python. */
int pybpfmap_lookup_sk(int fd, unsigned long long key, int key_size, void *value);
int pybpfmap_update_sk(int fd, unsigned long long key, int key_size, const void *value,
                       unsigned long long flags);
/* Lookup of a scalar key whose value is a scalar of value_size bytes
 * (1, 2, 4 or 8, zero-extended): the value is returned directly.  On
 * failure it returns 0 and sets errno; on success errno is 0. */
unsigned long long pybpfmap_lookup_ss(int fd, unsigned long long key, int key_size,
                                      int value_size);
int pybpfmap_update_ss(int fd, unsigned long long key, int key_size,
                       unsigned long long value, int value_size, unsigned long long flags);
