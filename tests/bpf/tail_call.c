// `entry` tail-calls slot 0 of `jumps`: it returns 7 when the slot is empty
// (the tail call falls through) and `target`'s 42 when it holds `target`.
// `other` is a tracepoint program, of a type the array refuses.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u32);
} jumps SEC(".maps");

SEC("xdp")
int target(struct xdp_md *ctx)
{
    return 42;
}

SEC("xdp")
int target2(struct xdp_md *ctx)
{
    return 43;
}

SEC("xdp")
int entry(struct xdp_md *ctx)
{
    bpf_tail_call(ctx, &jumps, 0);
    return 7;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int other(void *ctx)
{
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
