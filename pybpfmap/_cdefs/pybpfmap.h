/* cdefs for pybpfmap's own C helpers (pybpfmap/_csrc/helpers.c). */
extern const char pybpfmap_build_version[];
extern const char pybpfmap_libbpf_origin[];

/* libbpf's print callback takes a va_list, which cffi cannot pass to Python:
 * the C side formats the message and hands Python a plain string. */
extern "Python" void _pybpfmap_log(int level, const char *msg);
void pybpfmap_install_print(void);

/* f_type of the file system holding path (statfs), or -errno. */
long long pybpfmap_fs_magic(const char *path);

/* Event collection for the ring/perf buffer readers (helpers.c): C sample
 * callbacks append records {__u32 size; __u32 cpu; data; pad to 8} to data,
 * or, with `fixed` set, exactly `fixed` bytes per event (a packed array). */
struct pybpfmap_events {
    char *data;
    size_t len;
    size_t cap;
    size_t count;
    __u32 min_size;
    __u32 max_size;
    __u64 lost;
    int err;
    __u32 fixed;
};
struct pybpfmap_events *pybpfmap_events_new(void);
void pybpfmap_events_free(struct pybpfmap_events *ev);
void pybpfmap_events_clear(struct pybpfmap_events *ev);
void pybpfmap_events_pack(const struct pybpfmap_events *ev, char *out, size_t rec_size);
int pybpfmap_ringbuf_new(int map_fd, struct pybpfmap_events *ev, struct ring_buffer **out);
int pybpfmap_perfbuf_new(int map_fd, size_t page_cnt, struct pybpfmap_events *ev,
                         struct perf_buffer **out);
int pybpfmap_user_ringbuf_write(struct user_ring_buffer *rb, const void *data, __u32 size,
                                int timeout_ms);

/* Shared mappings at a chosen address (helpers.c), for ARENA maps whose
 * address is fixed by map_extra (Python's mmap cannot take an address). */
void *pybpfmap_mmap_shared(void *addr, size_t len, int prot, int fd, int *err);
int pybpfmap_munmap(void *addr, size_t len);
