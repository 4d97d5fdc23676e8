/* C helpers compiled into pybpfmap._libbpf next to libbpf itself. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/vfs.h>

static void _pybpfmap_log(int level, const char *msg);

static int pybpfmap_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    char buf[4096];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    _pybpfmap_log((int)level, buf);
    return 0;
}

static void pybpfmap_install_print(void)
{
    libbpf_set_print(pybpfmap_print);
}

static long long pybpfmap_fs_magic(const char *path)
{
    struct statfs st;
    if (statfs(path, &st) != 0)
        return -errno;
    return (long long)st.f_type;
}
