// syscount: system calls per process, and how long they take.
//
// The demo program bundled with pybpfmap (`pybpfmap demo`, examples/).
// sys_enter counts each system call under the calling process (tgid) with
// the process's name, and notes when the call started; sys_exit adds the
// call's duration to a log2 histogram of microseconds, BCC's way (bucket
// i >= 1 holds 2^(i-1) .. 2^i - 1 us, bucket 1 also holds 0).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct proc_stats {
    __u64 count;
    char comm[16];
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 10240);
    __type(key, __u32);                 // tgid
    __type(value, struct proc_stats);
} syscalls SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 10240);
    __type(key, __u64);                 // pid_tgid of a thread inside a system call
    __type(value, __u64);               // when the call started (ns)
} start SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 65);
    __type(key, __u32);                 // log2 bucket of the duration in us
    __type(value, __u64);               // calls
} latency_us SEC(".maps");

// floor(log2(v)) for v > 0, 0 for v == 0, without loops.
static __always_inline __u32 log2_u32(__u32 v)
{
    __u32 r, shift;

    r = (v > 0xffff) << 4; v >>= r;
    shift = (v > 0xff) << 3; v >>= shift; r |= shift;
    shift = (v > 0xf) << 2; v >>= shift; r |= shift;
    shift = (v > 0x3) << 1; v >>= shift; r |= shift;
    return r | (v >> 1);
}

// BCC's bucket: 1 + floor(log2(v)), and 1 for v == 0.
static __always_inline __u32 log2_bucket(__u64 v)
{
    __u32 hi = v >> 32;

    return hi ? log2_u32(hi) + 33 : log2_u32((__u32)v) + 1;
}

SEC("tracepoint/raw_syscalls/sys_enter")
int count_enter(void *ctx)
{
    __u64 id = bpf_get_current_pid_tgid();
    __u32 tgid = id >> 32;
    __u64 now = bpf_ktime_get_ns();
    struct proc_stats *s = bpf_map_lookup_elem(&syscalls, &tgid);

    if (s) {
        __sync_fetch_and_add(&s->count, 1);
    } else {
        struct proc_stats fresh = {.count = 1};

        bpf_get_current_comm(fresh.comm, sizeof(fresh.comm));
        bpf_map_update_elem(&syscalls, &tgid, &fresh, BPF_NOEXIST);
    }
    bpf_map_update_elem(&start, &id, &now, BPF_ANY);
    return 0;
}

SEC("tracepoint/raw_syscalls/sys_exit")
int count_exit(void *ctx)
{
    __u64 id = bpf_get_current_pid_tgid();
    __u64 *t0 = bpf_map_lookup_elem(&start, &id);
    __u32 bucket;
    __u64 *calls;

    if (!t0)
        return 0;
    bucket = log2_bucket((bpf_ktime_get_ns() - *t0) / 1000);
    bpf_map_delete_elem(&start, &id);
    if (bucket > 64)
        bucket = 64;
    calls = bpf_map_lookup_elem(&latency_us, &bucket);
    if (calls)
        __sync_fetch_and_add(calls, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
