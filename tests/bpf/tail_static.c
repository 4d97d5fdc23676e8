// A program array filled statically in the object (.values): the entry
// program tail-calls slot 1 without user space setting anything.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int target(struct xdp_md *ctx)
{
    return 42;
}

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __array(values, int (void *));
} jumps SEC(".maps") = {
    .values = { [1] = (void *)&target },
};

struct {
    __uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
    __uint(max_entries, 64);
    __type(value, __u32);
    __uint(map_extra, 5);
    __uint(numa_node, 0);
    __uint(map_flags, BPF_F_NUMA_NODE);
} seen SEC(".maps");

SEC("xdp")
int entry(struct xdp_md *ctx)
{
    bpf_tail_call(ctx, &jumps, 1);
    return 7;  // only when slot 1 is empty
}

char LICENSE[] SEC("license") = "GPL";
