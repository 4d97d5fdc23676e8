// Perf event array producer, run with test_run: the packet holds struct
// request; the program sends `count` events with bpf_perf_event_output on
// the current CPU.  With `big` set, each event is 1024 bytes (struct event
// then zeros) so that a small per-CPU buffer overflows and samples are lost.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct request {
    __u32 count;
    __u32 base;
    __u32 big;
};

struct event {
    __u32 seq;
    __u32 base;
    __u64 value;
};

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} perf SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, char[1024]);
} scratch SEC(".maps");

// sent[0]: events the kernel accepted, sent[1]: refused (no buffer open, or full)
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u64);
} sent SEC(".maps");

struct emit_ctx {
    struct xdp_md *xdp;
    struct request req;
};

static long emit_one(__u32 i, void *data)
{
    struct emit_ctx *ec = data;
    __u32 zero = 0, one = 1;
    struct event ev;
    __u64 *ok = bpf_map_lookup_elem(&sent, &zero);
    __u64 *refused = bpf_map_lookup_elem(&sent, &one);
    long err;

    if (!ok || !refused)
        return 1;
    ev.seq = i;
    ev.base = ec->req.base;
    ev.value = (__u64)ec->req.base * 1000003ULL + i;
    if (ec->req.big) {
        char *buf = bpf_map_lookup_elem(&scratch, &zero);
        if (!buf)
            return 1;
        __builtin_memcpy(buf, &ev, sizeof(ev));
        err = bpf_perf_event_output(ec->xdp, &perf, BPF_F_CURRENT_CPU, buf, 1024);
    } else {
        err = bpf_perf_event_output(ec->xdp, &perf, BPF_F_CURRENT_CPU, &ev, sizeof(ev));
    }
    if (err)
        __sync_fetch_and_add(refused, 1);
    else
        __sync_fetch_and_add(ok, 1);
    return 0;
}

SEC("xdp")
int emit(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    struct emit_ctx ec = { .xdp = ctx };
    __u64 n;

    if (data + sizeof(ec.req) > end)
        return XDP_ABORTED;
    __builtin_memcpy(&ec.req, data, sizeof(ec.req));
    n = ec.req.count;
    asm volatile("" : "+r"(n));  // a clean 64-bit count for the inlined bpf_loop
    bpf_loop(n, emit_one, &ec, 0);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
