// Queue, stack and bloom filter used from both sides: `relay` pops a value
// Python pushed into `inbox`, pushes value * 10 onto `outbox` and adds the
// value to `seen`; `check_seen` tells whether the packet's first 4 bytes are in
// `seen` (1) or not (0).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_QUEUE);
    __uint(max_entries, 8);
    __type(value, __u32);
} inbox SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_STACK);
    __uint(max_entries, 8);
    __type(value, __u32);
} outbox SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
    __uint(max_entries, 64);
    __type(value, __u32);
    __uint(map_extra, 3);
} seen SEC(".maps");

SEC("xdp")
int relay(struct xdp_md *ctx)
{
    __u32 v, out;

    if (bpf_map_pop_elem(&inbox, &v))
        return 0xE;
    out = v * 10;
    bpf_map_push_elem(&outbox, &out, 0);
    bpf_map_push_elem(&seen, &v, 0);
    return v;
}

SEC("xdp")
int check_seen(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    __u32 v;

    if (data + 4 > end)
        return 2;
    __builtin_memcpy(&v, data, 4);
    return bpf_map_peek_elem(&seen, &v) == 0;
}

char LICENSE[] SEC("license") = "GPL";
