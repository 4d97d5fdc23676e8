// Maps whose values hold a struct bpf_spin_lock, for BPF_F_LOCK updates from
// user space; `bump` updates them under the lock from a program.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct locked_val {
    struct bpf_spin_lock lock;
    __u32 tag;
    __u64 a;
    __u64 b;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, struct locked_val);
} locked SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, struct locked_val);
} locked_arr SEC(".maps");

// adds 1 to a and 2 to b of key 0 in both maps, under the lock
SEC("xdp")
int bump(struct xdp_md *ctx)
{
    __u32 key = 0;
    struct locked_val *v = bpf_map_lookup_elem(&locked, &key);
    struct locked_val *w = bpf_map_lookup_elem(&locked_arr, &key);

    if (v) {
        bpf_spin_lock(&v->lock);
        v->a += 1;
        v->b += 2;
        bpf_spin_unlock(&v->lock);
    }
    if (w) {
        bpf_spin_lock(&w->lock);
        w->a += 1;
        w->b += 2;
        bpf_spin_unlock(&w->lock);
    }
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
