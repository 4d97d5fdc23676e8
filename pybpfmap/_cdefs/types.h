/* Kernel integer types, sized by the compiler (cffi API mode). */
typedef int... __u8;
typedef int... __s8;
typedef int... __u16;
typedef int... __s16;
typedef int... __u32;
typedef int... __s32;
typedef int... __u64;
typedef int... __s64;
