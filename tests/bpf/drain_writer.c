// Kernel-side writers for the reliability tests (tests/test_reliability_*.py).
//
// add_keys: each run reads a __u32 counter base from the first 4 bytes of the
// packet and inserts keys base .. base+BURST-1 into `drain` (value = key * 3).
// The test gives every run a fresh base, so every key is added exactly once;
// Python drains the map concurrently and must see each key once.
//
// churn: each run reads a __u32 from the packet; it inserts that key into
// `churned` and deletes key - WINDOW, so the map holds a sliding window of
// keys that keeps moving while Python iterates it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define BURST 8
#define WINDOW 64

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1 << 16);
    __type(key, __u32);
    __type(value, __u64);
} drain SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, __u32);
    __type(value, __u64);
} churned SEC(".maps");

// How many inserts failed (map full): the test asserts none did.
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} failures SEC(".maps");

static __always_inline int read_base(struct xdp_md *ctx, __u32 *out)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    if (data + sizeof(__u32) > end)
        return -1;
    *out = *(__u32 *)data;
    return 0;
}

SEC("xdp")
int add_keys(struct xdp_md *ctx)
{
    __u32 base, zero = 0;
    if (read_base(ctx, &base))
        return XDP_ABORTED;
    for (int i = 0; i < BURST; i++) {
        __u32 key = base + i;
        __u64 value = (__u64)key * 3;
        if (bpf_map_update_elem(&drain, &key, &value, BPF_NOEXIST)) {
            __u64 *f = bpf_map_lookup_elem(&failures, &zero);
            if (f)
                __sync_fetch_and_add(f, 1);
        }
    }
    return XDP_PASS;
}

SEC("xdp")
int churn(struct xdp_md *ctx)
{
    __u32 key;
    if (read_base(ctx, &key))
        return XDP_ABORTED;
    __u64 value = key;
    bpf_map_update_elem(&churned, &key, &value, BPF_ANY);
    if (key >= WINDOW) {
        __u32 old = key - WINDOW;
        bpf_map_delete_elem(&churned, &old);
    }
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
