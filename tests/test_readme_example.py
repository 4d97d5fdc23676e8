# test_xdp_counts.py: a property test of your own BPF program (README, "Testing BPF programs")
from collections import Counter

from hypothesis import given, settings, strategies as st

XDP_PROTO_COUNT = r"""
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 256);
    __type(key, __u8);              /* IP protocol */
    __type(value, __u64);           /* packets */
} proto_count SEC(".maps");

SEC("xdp")
int count_protocols(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip = data + sizeof(*eth);
    __u64 one = 1, *n;
    __u8 proto;

    if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    if (ip->version != 4 || ip->ihl < 5)
        return XDP_DROP;
    proto = ip->protocol;
    n = bpf_map_lookup_elem(&proto_count, &proto);
    if (n)
        __sync_fetch_and_add(n, 1);
    else
        bpf_map_update_elem(&proto_count, &proto, &one, BPF_NOEXIST);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
"""
XDP_DROP, XDP_PASS = 1, 2

# Packets: IPv4 headers with any version/IHL/protocol, plus arbitrary frames.
ipv4 = st.builds(
    lambda vihl, proto, tail: bytes(12) + b"\x08\x00" + bytes([vihl]) + bytes(8)
    + bytes([proto]) + bytes(10) + tail,
    st.one_of(st.just(0x45), st.integers(0, 255)),
    st.one_of(st.sampled_from([1, 6, 17]), st.integers(0, 255)),
    st.binary(max_size=40))
packets = st.one_of(ipv4, st.binary(min_size=14, max_size=80))


def model(packet, counts):
    """What the program should do to ``packet``: the verdict, and the count."""
    if len(packet) < 34 or packet[12:14] != b"\x08\x00":
        return XDP_PASS
    if packet[14] >> 4 != 4 or packet[14] & 0xF < 5:
        return XDP_DROP
    counts[packet[23]] += 1
    return XDP_PASS


def test_counts_match_model(bpf_object):          # fixture from pybpfmap's pytest plugin
    obj = bpf_object(XDP_PROTO_COUNT)              # compiled with clang, loaded, closed after
    prog, counts = obj.programs["count_protocols"], obj.maps["proto_count"]

    @settings(max_examples=150, deadline=None)
    @given(st.lists(packets, max_size=20))
    def run(batch):
        counts.clear()
        expected = Counter()
        for packet in batch:
            assert prog.test_run(packet).retval == model(packet, expected)
        assert dict(counts.items()) == expected
    run()


def test_readme_shows_this_test():
    """The README's example is this file's code (every line of it is here)."""
    import os
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(top, "README.md")) as f:
        readme = f.read()
    marker = "# test_xdp_counts.py: a property test of your own BPF program\n"
    assert marker in readme
    block = readme.split(marker, 1)[1].split("```", 1)[0]
    with open(__file__) as f:
        here = set(f.read().splitlines())
    missing = [ln for ln in block.splitlines() if ln.strip() and ln not in here]
    assert not missing, missing
