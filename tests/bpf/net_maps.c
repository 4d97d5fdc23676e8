// Redirect maps seen from programs: each `to_*` XDP program redirects through
// its map and returns XDP_REDIRECT (4) when the slot is filled, XDP_PASS (2)
// when it is empty.  `on_dev`/`on_cpu` are programs that DEVMAP/CPUMAP values
// can carry.  `under_cgroup` records, per process, whether the task calling
// getpid() is under the cgroup in slot 0 of `cgroups`.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_DEVMAP);
    __uint(max_entries, 4);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} devs SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
    __uint(max_entries, 4);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(struct bpf_devmap_val));
} devs_by_ifindex SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_CPUMAP);
    __uint(max_entries, 2);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(struct bpf_cpumap_val));
} cpus SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_XSKMAP);
    __uint(max_entries, 4);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} xsks SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
    __uint(max_entries, 1);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} cgroups SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, __u32);
    __type(value, __s64);
} under SEC(".maps");

SEC("xdp")
int to_dev(struct xdp_md *ctx)
{
    return bpf_redirect_map(&devs, 0, XDP_PASS);
}

SEC("xdp")
int to_dev_hash(struct xdp_md *ctx)
{
    return bpf_redirect_map(&devs_by_ifindex, 1, XDP_PASS);
}

SEC("xdp")
int to_cpu(struct xdp_md *ctx)
{
    return bpf_redirect_map(&cpus, 1, XDP_PASS);
}

SEC("xdp")
int to_xsk(struct xdp_md *ctx)
{
    return bpf_redirect_map(&xsks, 0, XDP_PASS);
}

SEC("xdp/devmap")
int on_dev(struct xdp_md *ctx)
{
    return XDP_PASS;
}

SEC("xdp/cpumap")
int on_cpu(struct xdp_md *ctx)
{
    return XDP_PASS;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int under_cgroup(void *ctx)
{
    __u32 pid = bpf_get_current_pid_tgid() >> 32;
    __s64 res = bpf_current_task_under_cgroup(&cgroups, 0);

    bpf_map_update_elem(&under, &pid, &res, BPF_ANY);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
