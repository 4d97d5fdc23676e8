/* cdefs for <bpf/btf.h>: reading, building and loading BTF. */
struct btf;
struct btf_ext;

struct btf_type {
    __u32 name_off;
    __u32 info;
    union {
        __u32 size;
        __u32 type;
    };
};
struct btf_enum { __u32 name_off; __s32 val; };
struct btf_enum64 { __u32 name_off; __u32 val_lo32; __u32 val_hi32; };
struct btf_array { __u32 type; __u32 index_type; __u32 nelems; };
struct btf_member { __u32 name_off; __u32 type; __u32 offset; };
struct btf_param { __u32 name_off; __u32 type; };
struct btf_var { __u32 linkage; };
struct btf_var_secinfo { __u32 type; __u32 offset; __u32 size; };
struct btf_decl_tag { __s32 component_idx; };

#define BTF_KIND_UNKN ...
#define BTF_KIND_INT ...
#define BTF_KIND_PTR ...
#define BTF_KIND_ARRAY ...
#define BTF_KIND_STRUCT ...
#define BTF_KIND_UNION ...
#define BTF_KIND_ENUM ...
#define BTF_KIND_FWD ...
#define BTF_KIND_TYPEDEF ...
#define BTF_KIND_VOLATILE ...
#define BTF_KIND_CONST ...
#define BTF_KIND_RESTRICT ...
#define BTF_KIND_FUNC ...
#define BTF_KIND_FUNC_PROTO ...
#define BTF_KIND_VAR ...
#define BTF_KIND_DATASEC ...
#define BTF_KIND_FLOAT ...
#define BTF_KIND_DECL_TAG ...
#define BTF_KIND_TYPE_TAG ...
#define BTF_KIND_ENUM64 ...
#define BTF_INT_SIGNED ...
#define BTF_INT_CHAR ...
#define BTF_INT_BOOL ...

void btf__free(struct btf *btf);
struct btf *btf__new(const void *data, __u32 size);
struct btf *btf__new_split(const void *data, __u32 size, struct btf *base_btf);
struct btf *btf__new_empty(void);
struct btf *btf__new_empty_split(struct btf *base_btf);
struct btf *btf__parse(const char *path, struct btf_ext **btf_ext);
struct btf *btf__parse_elf(const char *path, struct btf_ext **btf_ext);
struct btf *btf__parse_raw(const char *path);
struct btf *btf__parse_split(const char *path, struct btf *base_btf);
struct btf *btf__load_vmlinux_btf(void);
struct btf *btf__load_module_btf(const char *module_name, struct btf *vmlinux_btf);
struct btf *btf__load_from_kernel_by_id(__u32 id);
struct btf *btf__load_from_kernel_by_id_split(__u32 id, struct btf *base_btf);
void btf_ext__free(struct btf_ext *btf_ext);

int btf__load_into_kernel(struct btf *btf);
__s32 btf__find_by_name(const struct btf *btf, const char *type_name);
__s32 btf__find_by_name_kind(const struct btf *btf, const char *type_name, __u32 kind);
__u32 btf__type_cnt(const struct btf *btf);
const struct btf *btf__base_btf(const struct btf *btf);
const struct btf_type *btf__type_by_id(const struct btf *btf, __u32 id);
size_t btf__pointer_size(const struct btf *btf);
int btf__set_pointer_size(struct btf *btf, size_t ptr_sz);
__s64 btf__resolve_size(const struct btf *btf, __u32 type_id);
int btf__resolve_type(const struct btf *btf, __u32 type_id);
int btf__align_of(const struct btf *btf, __u32 id);
int btf__fd(const struct btf *btf);
void btf__set_fd(struct btf *btf, int fd);
const void *btf__raw_data(const struct btf *btf, __u32 *size);
const char *btf__name_by_offset(const struct btf *btf, __u32 offset);
const char *btf__str_by_offset(const struct btf *btf, __u32 offset);

int btf__find_str(struct btf *btf, const char *s);
int btf__add_str(struct btf *btf, const char *s);
int btf__add_int(struct btf *btf, const char *name, size_t byte_sz, int encoding);
int btf__add_float(struct btf *btf, const char *name, size_t byte_sz);
int btf__add_ptr(struct btf *btf, int ref_type_id);
int btf__add_array(struct btf *btf, int index_type_id, int elem_type_id, __u32 nr_elems);
int btf__add_struct(struct btf *btf, const char *name, __u32 sz);
int btf__add_union(struct btf *btf, const char *name, __u32 sz);
int btf__add_field(struct btf *btf, const char *name, int field_type_id,
                   __u32 bit_offset, __u32 bit_size);
int btf__add_enum(struct btf *btf, const char *name, __u32 bytes_sz);
int btf__add_enum_value(struct btf *btf, const char *name, __s64 value);
int btf__add_enum64(struct btf *btf, const char *name, __u32 bytes_sz, bool is_signed);
int btf__add_enum64_value(struct btf *btf, const char *name, __u64 value);
int btf__add_fwd(struct btf *btf, const char *name, int fwd_kind);
int btf__add_typedef(struct btf *btf, const char *name, int ref_type_id);
int btf__add_volatile(struct btf *btf, int ref_type_id);
int btf__add_const(struct btf *btf, int ref_type_id);
int btf__add_restrict(struct btf *btf, int ref_type_id);
int btf__add_type_tag(struct btf *btf, const char *value, int ref_type_id);
int btf__add_func(struct btf *btf, const char *name, int linkage, int proto_type_id);
int btf__add_func_proto(struct btf *btf, int ret_type_id);
int btf__add_func_param(struct btf *btf, const char *name, int type_id);
int btf__add_var(struct btf *btf, const char *name, int linkage, int type_id);
int btf__add_datasec(struct btf *btf, const char *name, __u32 byte_sz);
int btf__add_datasec_var_info(struct btf *btf, int var_type_id, __u32 offset, __u32 byte_sz);
int btf__add_decl_tag(struct btf *btf, const char *value, int ref_type_id, int component_idx);

/* static inline accessors from btf.h (compiled into the module) */
__u16 btf_kind(const struct btf_type *t);
__u16 btf_vlen(const struct btf_type *t);
bool btf_kflag(const struct btf_type *t);
__u8 btf_int_encoding(const struct btf_type *t);
__u8 btf_int_offset(const struct btf_type *t);
__u8 btf_int_bits(const struct btf_type *t);
struct btf_array *btf_array(const struct btf_type *t);
struct btf_enum *btf_enum(const struct btf_type *t);
struct btf_enum64 *btf_enum64(const struct btf_type *t);
__u64 btf_enum64_value(const struct btf_enum64 *e);
struct btf_member *btf_members(const struct btf_type *t);
__u32 btf_member_bit_offset(const struct btf_type *t, __u32 member_idx);
__u32 btf_member_bitfield_size(const struct btf_type *t, __u32 member_idx);
struct btf_param *btf_params(const struct btf_type *t);
struct btf_var *btf_var(const struct btf_type *t);
struct btf_var_secinfo *btf_var_secinfos(const struct btf_type *t);
struct btf_decl_tag *btf_decl_tag(const struct btf_type *t);

/* bpf_btf_load (declared in bpf.h with a void * opts) takes these options;
 * used to fetch the kernel's BTF verifier log when a load fails. */
struct bpf_btf_load_opts {
    size_t sz;
    char *log_buf;
    __u32 log_level;
    __u32 log_size;
    ...;
};
