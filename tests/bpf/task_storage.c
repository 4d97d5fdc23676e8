// Counts getpid() calls in a task-local storage value of the calling task,
// so the tests see a program and Python share TASK_STORAGE values.
#include <linux/bpf.h>
#include <asm/unistd.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, int);
    __type(value, __u64);
} getpid_calls SEC(".maps");

SEC("tp_btf/sys_enter")
int count_getpid(__u64 *ctx)
{
    struct task_struct *task;
    __u64 *calls;

    if (ctx[1] != __NR_getpid)
        return 0;
    task = bpf_get_current_task_btf();
    calls = bpf_task_storage_get(&getpid_calls, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
    if (calls)
        __sync_fetch_and_add(calls, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
