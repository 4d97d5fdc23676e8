/* cdefs for pybpfmap's own C helpers (pybpfmap/_csrc/helpers.c). */
extern const char pybpfmap_build_version[];
extern const char pybpfmap_libbpf_origin[];

/* libbpf's print callback takes a va_list, which cffi cannot pass to Python:
 * the C side formats the message and hands Python a plain string. */
extern "Python" void _pybpfmap_log(int level, const char *msg);
void pybpfmap_install_print(void);

/* f_type of the file system holding path (statfs), or -errno. */
long long pybpfmap_fs_magic(const char *path);
