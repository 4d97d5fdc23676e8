// The smallest useful socket filter: counts packets in an array.  Socket
// filters need only CAP_BPF to load (no CAP_NET_ADMIN or CAP_PERFMON), which
// the privilege tests (tests/test_reliability_privileges.py) rely on.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} packets SEC(".maps");

SEC("socket")
int count_packets(struct __sk_buff *skb)
{
    __u32 zero = 0;
    __u64 *n = bpf_map_lookup_elem(&packets, &zero);
    if (n)
        __sync_fetch_and_add(n, 1);
    return skb->len;
}

char LICENSE[] SEC("license") = "GPL";
