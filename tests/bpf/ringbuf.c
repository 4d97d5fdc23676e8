// Ring buffer producers and a user ring buffer consumer, run with test_run.
//
// produce: the packet holds struct request; the program emits `count` events
// (struct event) whose fields derive from the request, so the tests know
// exactly which events to expect.  produce_var emits events of the sizes
// listed in the packet.  produce_named emits struct named_event (a char
// array: a record that is not a flat struct).  drain consumes the user ring
// buffer and records each sample it saw in `seen`.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct request {
    __u32 count;
    __u32 base;
};

struct event {
    __u32 seq;
    __u32 base;
    __u64 value;
};

struct named_event {
    __u32 seq;
    char name[12];
};

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 1 << 24);  // 16 MiB: 699050 events of 16 bytes
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} small SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_USER_RINGBUF);
    __uint(max_entries, 4096 * 4);
} user_rb SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 64);
    __type(key, __u32);
    __type(value, struct event);
} seen SEC(".maps");

// seen_stats[0]: samples drained, [1]: bytes of full-size samples, [2]: last drain's return value
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 3);
    __type(key, __u32);
    __type(value, __s64);
} seen_stats SEC(".maps");

static __always_inline int read_request(struct xdp_md *ctx, struct request *req)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    if (data + sizeof(*req) > end)
        return -1;
    __builtin_memcpy(req, data, sizeof(*req));
    return 0;
}

struct produce_ctx {
    struct request req;
    __u32 sent;
};

static long produce_one(__u32 i, void *data)
{
    struct produce_ctx *pc = data;
    struct event ev;

    ev.seq = i;
    ev.base = pc->req.base;
    ev.value = (__u64)pc->req.base * 1000003ULL + i;
    if (bpf_ringbuf_output(&events, &ev, sizeof(ev), 0) == 0)
        pc->sent++;
    return 0;
}

// Emits req.count events (bpf_loop, so any count up to 1 << 23).
SEC("xdp")
int produce(struct xdp_md *ctx)
{
    struct produce_ctx pc = {};

    __u64 n;

    if (read_request(ctx, &pc.req))
        return XDP_ABORTED;
    // a clean 64-bit count: the inlined bpf_loop compares all 64 bits of r1,
    // and clang would otherwise pass count and base packed in one register
    n = pc.req.count;
    asm volatile("" : "+r"(n));
    bpf_loop(n, produce_one, &pc, 0);
    return pc.sent == pc.req.count ? XDP_PASS : XDP_DROP;
}

// Fills the 4096-byte ring `small` until it refuses; returns how many fit.
SEC("xdp")
int produce_small(struct xdp_md *ctx)
{
    struct event ev = {};
    __u32 i, sent = 0;

    for (i = 0; i < 512; i++) {
        ev.seq = i;
        if (bpf_ringbuf_output(&small, &ev, sizeof(ev), 0))
            break;
        sent++;
    }
    return sent;
}

// The packet is a list of __u8 sizes (1..64); event k is `size` bytes of value k.
SEC("xdp")
int produce_var(struct xdp_md *ctx)
{
    __u8 *data = (void *)(long)ctx->data;
    __u8 *end = (void *)(long)ctx->data_end;
    __u8 buf[64];
    __u32 i, k;

    for (i = 0; i < 64; i++) {
        __u32 size;
        if (data + i + 1 > end)
            break;
        size = data[i];
        if (size < 1 || size > 64)
            return XDP_ABORTED;
        for (k = 0; k < 64; k++)
            buf[k] = i;
        bpf_ringbuf_output(&events, buf, size, 0);
    }
    return XDP_PASS;
}

SEC("xdp")
int produce_named(struct xdp_md *ctx)
{
    struct request req;
    struct named_event ev = {};
    __u32 i;

    if (read_request(ctx, &req))
        return XDP_ABORTED;
    for (i = 0; i < 64; i++) {
        if (i >= req.count)
            break;
        ev.seq = req.base + i;
        __builtin_memcpy(ev.name, "event-0000", 11);
        ev.name[9] = '0' + i % 10;
        ev.name[8] = '0' + (i / 10) % 10;
        bpf_ringbuf_output(&events, &ev, sizeof(ev), 0);
    }
    return XDP_PASS;
}

static long drain_one(struct bpf_dynptr *dynptr, void *ctx)
{
    __u32 zero = 0, one = 1, idx;
    struct event ev = {};
    // read the sample first: the verifier tracks the dynptr only in registers
    long err = bpf_dynptr_read(&ev, sizeof(ev), dynptr, 0, 0);
    __s64 *count = bpf_map_lookup_elem(&seen_stats, &zero);
    __s64 *bytes = bpf_map_lookup_elem(&seen_stats, &one);
    struct event *slot;

    if (!count || !bytes)
        return 1;
    if (err)
        ev.seq = 0xffffffff;  // shorter than struct event
    else
        *bytes += sizeof(ev);
    idx = (__u32)*count;
    *count += 1;
    slot = bpf_map_lookup_elem(&seen, &idx);
    if (slot)
        *slot = ev;
    return 0;
}

SEC("xdp")
int drain(struct xdp_md *ctx)
{
    __u32 two = 2;
    __s64 *ret = bpf_map_lookup_elem(&seen_stats, &two);
    long n = bpf_user_ringbuf_drain(&user_rb, drain_one, NULL, 0);

    if (ret)
        *ret = n;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
