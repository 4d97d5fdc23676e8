// Records the kernel stack of each getpid() call (a tracepoint on the
// syscall's entry) in `stacks`, and the stack id per calling process in
// `last`, so the tests can read a real stack trace and symbolise it; the
// user-space stack goes into `ustacks` as build-id frames, its id into `ulast`.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_STACK_TRACE);
    __uint(max_entries, 64);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, 32 * sizeof(__u64));
} stacks SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_STACK_TRACE);
    __uint(max_entries, 64);
    __uint(map_flags, BPF_F_STACK_BUILD_ID);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, 8 * sizeof(struct bpf_stack_build_id));
} ustacks SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, __u32);
    __type(value, __s64);
} last SEC(".maps"), ulast SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int record_stack(void *ctx)
{
    __u32 pid = bpf_get_current_pid_tgid() >> 32;
    __s64 id = bpf_get_stackid(ctx, &stacks, 0);

    bpf_map_update_elem(&last, &pid, &id, BPF_ANY);
    id = bpf_get_stackid(ctx, &ustacks, BPF_F_USER_STACK);
    bpf_map_update_elem(&ulast, &pid, &id, BPF_ANY);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
