/* C helpers compiled into pybpfmap._libbpf next to libbpf itself. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/vfs.h>

static void _pybpfmap_log(int level, const char *msg);

static int pybpfmap_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    char buf[4096];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    _pybpfmap_log((int)level, buf);
    return 0;
}

static void pybpfmap_install_print(void)
{
    libbpf_set_print(pybpfmap_print);
}

static long long pybpfmap_fs_magic(const char *path)
{
    struct statfs st;
    if (statfs(path, &st) != 0)
        return -errno;
    return (long long)st.f_type;
}

/* ---- event collection for the ring buffer and perf buffer readers ----------
 *
 * libbpf calls a sample callback per event.  Calling into Python per event
 * would cost more than the rest of the read, so the callbacks here are C:
 * they append each sample to a growable buffer, and Python decodes the whole
 * buffer at once.  Record layout, 8-byte aligned:
 *
 *     __u32 size; __u32 cpu; char data[size]; zero padding to 8 bytes
 *
 * With `fixed` set, records are instead exactly `fixed` bytes each, no
 * header (longer samples cut, shorter ones zero-padded): the buffer is then
 * a packed array that numpy takes as it is.
 *
 * Only one thread uses a struct pybpfmap_events at a time (the Python
 * reader holds a lock around each poll and decode).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

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

static void pybpfmap_events_clear(struct pybpfmap_events *ev)
{
    ev->len = 0;
    ev->count = 0;
    ev->min_size = UINT_MAX;
    ev->max_size = 0;
    ev->err = 0;
}

static struct pybpfmap_events *pybpfmap_events_new(void)
{
    struct pybpfmap_events *ev = calloc(1, sizeof(*ev));
    if (ev)
        pybpfmap_events_clear(ev);
    return ev;
}

static void pybpfmap_events_free(struct pybpfmap_events *ev)
{
    if (ev) {
        free(ev->data);
        free(ev);
    }
}

static int pybpfmap_events_append(struct pybpfmap_events *ev, int cpu, const void *data, size_t size)
{
    size_t need, padded;
    char *rec;

    if (size > UINT_MAX)
        return -E2BIG;
    padded = (size + 7) & ~(size_t)7;
    need = ev->fixed ? ev->len + ev->fixed : ev->len + 8 + padded;
    if (need > ev->cap) {
        size_t cap = ev->cap ? ev->cap : 64 * 1024;
        char *grown;
        while (cap < need)
            cap *= 2;
        grown = realloc(ev->data, cap);
        if (!grown) {
            ev->err = -ENOMEM;
            return -ENOMEM;
        }
        ev->data = grown;
        ev->cap = cap;
    }
    rec = ev->data + ev->len;
    if (ev->fixed) {
        size_t n = size < ev->fixed ? size : ev->fixed;
        memcpy(rec, data, n);
        if (n < ev->fixed)
            memset(rec + n, 0, ev->fixed - n);
        ev->len = need;
        ev->count++;
        return 0;
    }
    ((__u32 *)rec)[0] = (__u32)size;
    ((__u32 *)rec)[1] = (__u32)cpu;
    memcpy(rec + 8, data, size);
    if (padded != size)
        memset(rec + 8 + size, 0, padded - size);
    ev->len = need;
    ev->count++;
    if (size < ev->min_size)
        ev->min_size = (__u32)size;
    if (size > ev->max_size)
        ev->max_size = (__u32)size;
    return 0;
}

static int pybpfmap_ringbuf_sample(void *ctx, void *data, size_t size)
{
    return pybpfmap_events_append(ctx, 0, data, size);
}

/* A ring_buffer whose samples go to ev; 0 or -errno. */
static int pybpfmap_ringbuf_new(int map_fd, struct pybpfmap_events *ev, struct ring_buffer **out)
{
    struct ring_buffer *rb = ring_buffer__new(map_fd, pybpfmap_ringbuf_sample, ev, NULL);
    if (!rb)
        return errno ? -errno : -EINVAL;
    *out = rb;
    return 0;
}

static void pybpfmap_perf_sample(void *ctx, int cpu, void *data, __u32 size)
{
    pybpfmap_events_append(ctx, cpu, data, size);
}

static void pybpfmap_perf_lost(void *ctx, int cpu, __u64 cnt)
{
    ((struct pybpfmap_events *)ctx)->lost += cnt;
}

/* A perf_buffer of page_cnt pages per CPU whose samples go to ev; 0 or -errno. */
static int pybpfmap_perfbuf_new(int map_fd, size_t page_cnt, struct pybpfmap_events *ev,
                                struct perf_buffer **out)
{
    struct perf_buffer *pb = perf_buffer__new(map_fd, page_cnt, pybpfmap_perf_sample,
                                              pybpfmap_perf_lost, ev, NULL);
    if (!pb)
        return errno ? -errno : -EINVAL;
    *out = pb;
    return 0;
}

/* Copy the first rec_size bytes of every record into out (packed, for numpy). */
static void pybpfmap_events_pack(const struct pybpfmap_events *ev, char *out, size_t rec_size)
{
    const char *p = ev->data, *end = ev->data + ev->len;
    while (p < end) {
        __u32 size = ((const __u32 *)p)[0];
        size_t n = size < rec_size ? size : rec_size;
        memcpy(out, p + 8, n);
        if (n < rec_size)
            memset(out + n, 0, rec_size - n);
        out += rec_size;
        p += 8 + (((size_t)size + 7) & ~(size_t)7);
    }
}

/* Submit size bytes to a user ring buffer, waiting up to timeout_ms for room
 * (0: no wait, -1: for ever); 0 or -errno (ENOSPC: full, E2BIG: too big). */
static int pybpfmap_user_ringbuf_write(struct user_ring_buffer *rb, const void *data, __u32 size,
                                       int timeout_ms)
{
    void *slot;
    errno = 0;
    if (timeout_ms == 0)
        slot = user_ring_buffer__reserve(rb, size);
    else
        slot = user_ring_buffer__reserve_blocking(rb, size, timeout_ms);
    if (!slot)
        return errno ? -errno : -ENOSPC;
    memcpy(slot, data, size);
    user_ring_buffer__submit(rb, slot);
    return 0;
}

/* ---- shared mappings at a given address (ARENA maps with map_extra) ---- */
#include <sys/mman.h>

/* mmap(addr, len, prot, MAP_SHARED, fd, 0); NULL with *err = errno on failure. */
static void *pybpfmap_mmap_shared(void *addr, size_t len, int prot, int fd, int *err)
{
    void *p = mmap(addr, len, prot, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        *err = errno;
        return NULL;
    }
    *err = 0;
    return p;
}

static int pybpfmap_munmap(void *addr, size_t len)
{
    return munmap(addr, len) ? -errno : 0;
}
