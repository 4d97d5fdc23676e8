/* C baseline for pybpfmap's benchmarks: the same map operations through
 * libbpf, timed the same way (median of REPS runs, ns per entry).
 *
 *   baseline OP ENTRIES OPS REPS
 *
 * OP is one of: hash_lookup hash_update hash_batch_lookup hash_batch_update
 * array_lookup percpu_hash_lookup struct_lookup, or
 *
 *   baseline ringbuf_consume EVENTS 0 REPS OBJECT
 *
 * which loads OBJECT (tests/bpf/ringbuf.c), has its `produce` program emit
 * EVENTS 16-byte events into the `events` ring buffer, and times
 * ring_buffer__consume() with a callback that copies each event out.
 * Prints one line: "OP median_ns_per_entry".  Pinned to CPU 0 like the
 * Python side.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void die(const char *what, int err)
{
    fprintf(stderr, "baseline: %s: %s\n", what, strerror(-err));
    exit(1);
}

static int make_map(enum bpf_map_type type, __u32 vsize, __u32 entries)
{
    int fd = bpf_map_create(type, "bench", 4, vsize, entries, NULL);
    if (fd < 0)
        die("bpf_map_create", fd);
    return fd;
}

static void fill(int fd, __u32 n, __u32 stride)
{
    char *vals = calloc(n, stride);
    __u32 *keys = malloc(n * sizeof(__u32));
    for (__u32 i = 0; i < n; i++) {
        keys[i] = i;
        memcpy(vals + (size_t)i * stride, &(__u64){(__u64)i * 3}, 8);
    }
    __u32 count = n;
    int err = bpf_map_update_batch(fd, keys, vals, &count, NULL);
    if (err)
        die("fill", err);
    free(keys);
    free(vals);
}

struct sink {
    char buf[16 * 1024];
    unsigned long n;
};

static int copy_event(void *ctx, void *data, size_t size)
{
    struct sink *s = ctx;
    memcpy(s->buf + (s->n++ % 1024) * 16, data, size < 16 ? size : 16);
    return 0;
}

static int ringbuf_consume(__u32 events, int reps, const char *path)
{
    struct bpf_object *obj = bpf_object__open_file(path, NULL);
    if (!obj || bpf_object__load(obj))
        die("loading the ring buffer object", -errno);
    struct bpf_program *prog = bpf_object__find_program_by_name(obj, "produce");
    int map_fd = bpf_object__find_map_fd_by_name(obj, "events");
    static struct sink sink;
    struct ring_buffer *rb = ring_buffer__new(map_fd, copy_event, &sink, NULL);
    if (!prog || map_fd < 0 || !rb)
        die("ring buffer setup", -errno);
    __u32 packet[16] = {events, 1};
    double *samples = calloc(reps, sizeof(double));
    for (int r = 0; r < reps; r++) {
        LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet, .data_size_in = sizeof(packet));
        int err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
        if (err || opts.retval != 2)
            die("producing events", err ? err : -EIO);
        sink.n = 0;
        double t0 = now_ns();
        int n = ring_buffer__consume(rb);
        double dt = now_ns() - t0;
        if (n < 0 || (__u32)n != events)
            die("ring_buffer__consume", n < 0 ? n : -EIO);
        samples[r] = dt / n;
    }
    qsort(samples, reps, sizeof(double), cmp_double);
    printf("ringbuf_consume %.1f\n", samples[reps / 2]);
    ring_buffer__free(rb);
    bpf_object__close(obj);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 6 && !strcmp(argv[1], "ringbuf_consume")) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(0, &one);
        sched_setaffinity(0, sizeof(one), &one);
        return ringbuf_consume(atoi(argv[2]), atoi(argv[4]), argv[5]);
    }
    if (argc != 5) {
        fprintf(stderr, "usage: baseline OP ENTRIES OPS REPS [OBJECT]\n");
        return 2;
    }
    const char *op = argv[1];
    __u32 entries = atoi(argv[2]), ops = atoi(argv[3]);
    int reps = atoi(argv[4]);
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    sched_setaffinity(0, sizeof(set), &set);

    int ncpus = libbpf_num_possible_cpus();
    double *samples = calloc(reps, sizeof(double));
    int fd;
    __u32 vsize = 8, stride = 8;
    enum bpf_map_type type = BPF_MAP_TYPE_HASH;
    if (!strcmp(op, "array_lookup"))
        type = BPF_MAP_TYPE_ARRAY;
    if (!strcmp(op, "percpu_hash_lookup")) {
        type = BPF_MAP_TYPE_PERCPU_HASH;
        stride = 8 * ncpus;
    }
    if (!strcmp(op, "struct_lookup"))
        vsize = stride = 48;
    fd = make_map(type, vsize, entries);
    if (strcmp(op, "hash_batch_update") && strcmp(op, "hash_update"))
        fill(fd, entries, stride);

    char *value = malloc(stride), *copy = malloc(stride);
    __u32 *keys = malloc(entries * sizeof(__u32));
    char *vals = calloc(entries, stride);
    for (__u32 i = 0; i < entries; i++)
        keys[i] = i;
    volatile __u64 sink = 0;

    for (int r = 0; r < reps; r++) {
        double t0 = now_ns(), n = ops;
        if (!strcmp(op, "hash_lookup") || !strcmp(op, "array_lookup") ||
            !strcmp(op, "percpu_hash_lookup")) {
            for (__u32 i = 0; i < ops; i++) {
                __u32 k = i % entries;
                if (bpf_map_lookup_elem(fd, &k, value))
                    die("lookup", -errno);
                sink += *(__u64 *)value;
            }
        } else if (!strcmp(op, "struct_lookup")) {
            for (__u32 i = 0; i < ops; i++) {
                __u32 k = i % entries;
                if (bpf_map_lookup_elem(fd, &k, value))
                    die("lookup", -errno);
                memcpy(copy, value, stride);
                sink += copy[0];
            }
        } else if (!strcmp(op, "hash_update")) {
            for (__u32 i = 0; i < ops; i++) {
                __u32 k = i % entries;
                __u64 v = i;
                int err = bpf_map_update_elem(fd, &k, &v, BPF_ANY);
                if (err)
                    die("update", err);
            }
        } else if (!strcmp(op, "hash_batch_lookup")) {
            /* the whole map, in chunks of 4096 like pybpfmap */
            __u32 batch, total = 0, chunk = 4096, count;
            void *in = NULL;
            LIBBPF_OPTS(bpf_map_batch_opts, opts);
            for (;;) {
                count = chunk;
                int err = bpf_map_lookup_batch(fd, in, &batch, keys + total,
                                               vals + (size_t)total * stride, &count, &opts);
                total += count;
                if (err == -ENOENT)
                    break;
                if (err)
                    die("lookup_batch", err);
                in = &batch;
            }
            n = total;
        } else if (!strcmp(op, "hash_batch_update")) {
            __u32 done = 0, chunk = 4096;
            LIBBPF_OPTS(bpf_map_batch_opts, opts);
            while (done < entries) {
                __u32 count = entries - done < chunk ? entries - done : chunk;
                int err = bpf_map_update_batch(fd, keys + done, vals + (size_t)done * stride,
                                               &count, &opts);
                if (err)
                    die("update_batch", err);
                done += count;
            }
            n = entries;
        } else {
            fprintf(stderr, "baseline: unknown op %s\n", op);
            return 2;
        }
        samples[r] = (now_ns() - t0) / n;
    }
    qsort(samples, reps, sizeof(double), cmp_double);
    printf("%s %.1f\n", op, samples[reps / 2]);
    close(fd);
    return 0;
}
