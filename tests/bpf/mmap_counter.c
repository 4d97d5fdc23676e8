// An XDP program counting into a BPF_F_MMAPABLE array, so the tests can read
// the counters through the map's memory without a syscall.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct stats {
    __u64 packets;
    __u64 bytes;
    __u32 last_len;
    __u8 flag;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(map_flags, BPF_F_MMAPABLE);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, struct stats);
} counters SEC(".maps");

// plain __u32 values: the kernel lays them out every 8 bytes
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(map_flags, BPF_F_MMAPABLE);
    __uint(max_entries, 1000);
    __type(key, __u32);
    __type(value, __u32);
} hits SEC(".maps");

SEC("xdp")
int count(struct xdp_md *ctx)
{
    __u32 len = ctx->data_end - ctx->data;
    __u32 slot = len % 4, idx = len % 1000;
    struct stats *s = bpf_map_lookup_elem(&counters, &slot);
    __u32 *h = bpf_map_lookup_elem(&hits, &idx);

    if (!s || !h)
        return XDP_ABORTED;
    __sync_fetch_and_add(&s->packets, 1);
    __sync_fetch_and_add(&s->bytes, len);
    s->last_len = len;
    s->flag = 1;
    __sync_fetch_and_add(h, 1);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
