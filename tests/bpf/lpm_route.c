// Looks up each packet's IPv4 destination in an LPM trie and returns the value
// found (or 1000 when no prefix matches), so test_run shows the kernel's match.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>

struct ipv4_key {
    __u32 prefixlen;
    __u8 data[4];
};

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 16);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct ipv4_key);
    __type(value, __u32);
} routes SEC(".maps");

SEC("xdp")
int route(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    struct iphdr *ip = data + sizeof(struct ethhdr);
    struct ipv4_key key = {.prefixlen = 32};
    __u32 *value;

    if ((void *)(ip + 1) > end)
        return 2000;
    __builtin_memcpy(key.data, &ip->daddr, 4);
    value = bpf_map_lookup_elem(&routes, &key);
    return value ? *value : 1000;
}

char LICENSE[] SEC("license") = "GPL";
