#!/usr/bin/env bash
# Mount bpffs at /sys/fs/bpf and tracefs at /sys/kernel/tracing when they are
# not mounted yet.  Pinning needs the first, tracepoint programs the second.
set -u
is_mounted() { awk -v d="$1" -v t="$2" '$2 == d && $3 == t {found=1} END {exit !found}' /proc/mounts; }
mount_if_missing() {
    local fstype=$1 source=$2 dir=$3
    is_mounted "$dir" "$fstype" && return 0
    if [ "$(id -u)" != 0 ]; then
        echo "warning: $fstype is not mounted at $dir (run as root: mount -t $fstype $source $dir)" >&2
        return 0
    fi
    mkdir -p "$dir" && mount -t "$fstype" "$source" "$dir" && echo "mounted $fstype at $dir"
}
mount_if_missing bpf bpf /sys/fs/bpf
mount_if_missing tracefs nodev /sys/kernel/tracing
exit 0
