// An XDP program that writes every kind of C type into maps, so the tests can
// check that Python reads exactly what the kernel-side C code wrote.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum color { RED = 0, GREEN = 1, BLUE = 7, NEG = -3 };

struct inner {
    __u16 a;
    __u8 tag[3];
};

union num {
    __u32 u;
    __s32 s;
    float f;
    __u8 bytes[4];
};

struct record {
    __u32 id;
    enum color color;
    unsigned int flag : 1;
    unsigned int level : 3;
    int delta : 5;
    unsigned int big : 20;
    struct inner in;
    union num n;
    char name[16];
    __u64 counts[3];
    __s8 small;
    _Bool ok;
    struct {
        __u32 x;
        __u32 y;
    } pos;
    union {
        __u64 raw;
        __u32 half[2];
    };
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, struct record);
} records SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} counters SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, __u64);
    __uint(pinning, LIBBPF_PIN_BY_NAME);
} pinned_counts SEC(".maps");

struct inner_map {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u32);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 4);
    __type(key, __u32);
    __array(values, struct inner_map);
} outer SEC(".maps") = {
    .values = { [0] = &inner_a, [2] = &inner_b },
};

SEC("xdp")
int write_record(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    __u32 key;
    struct record r = {};

    if (data + 4 > end)
        return XDP_ABORTED;
    key = *(__u32 *)data;

    r.id = key;
    r.color = (key & 1) ? BLUE : NEG;
    r.flag = 1;
    r.level = 5;
    r.delta = -7;
    r.big = 0xABCDE;
    r.in.a = 0x1234;
    r.in.tag[0] = 'x';
    r.in.tag[1] = 'y';
    r.in.tag[2] = 'z';
    r.n.s = -2;
    __builtin_memcpy(r.name, "kernel", 7);
    r.counts[0] = 1;
    r.counts[1] = 1ULL << 40;
    r.counts[2] = key * 3;
    r.small = -100;
    r.ok = 1;
    r.pos.x = 10;
    r.pos.y = 20;
    r.half[0] = 0xdead;
    r.half[1] = 0xbeef;
    bpf_map_update_elem(&records, &key, &r, BPF_ANY);

    __u32 zero = 0;
    __u64 *c = bpf_map_lookup_elem(&counters, &zero);
    if (c)
        __sync_fetch_and_add(c, 1);
    __u64 one = 1, *p = bpf_map_lookup_elem(&pinned_counts, &key);
    if (p)
        __sync_fetch_and_add(p, 1);
    else
        bpf_map_update_elem(&pinned_counts, &key, &one, BPF_NOEXIST);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
