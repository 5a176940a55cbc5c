// The few C symbols an Embedded Swift aarch64 program needs, so it links with no libc at all:
// a `_start` that calls Swift's `loom_main` and exits, `write`/`exit_group`/`mmap` as raw Linux
// syscalls, a size-class allocator over one mmap'd region, and the mem* functions.
// Compiled with -ffreestanding -fno-builtin -ffp-contract=off; no floating point here
// (fma/fmaf are the hardware's fmadd, inlined by the compiler).
#include <stddef.h>
#include <stdint.h>

static long sys3(long n, long a, long b, long c) {
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory", "cc");
    return x0;
}

static long sys6(long n, long a, long b, long c, long d, long e, long f) {
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory", "cc");
    return x0;
}

enum { SYS_write = 64, SYS_exit_group = 94, SYS_mmap = 222 };

long loom_write(int fd, const void *buf, size_t n) { return sys3(SYS_write, fd, (long)buf, (long)n); }

static _Noreturn void exit_group(int status) {
    for (;;) sys3(SYS_exit_group, status, 0, 0);
}

// Memory: the shared size-class allocator (wasm/shim_alloc.h) over one big lazily committed mapping.
#define HEAP_BYTES ((uintptr_t)16 << 30)  // address space only (MAP_NORESERVE); pages commit on touch
static uintptr_t heap_end = 0;

static uintptr_t shim_heap_start(void) {
    // PROT_READ|PROT_WRITE = 3, MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE = 0x02|0x20|0x4000
    long p = sys6(SYS_mmap, 0, (long)HEAP_BYTES, 3, 0x4022, -1, 0);
    if (p < 0 && p > -4096) return 0;
    heap_end = (uintptr_t)p + HEAP_BYTES;
    return (uintptr_t)p;
}

static int shim_heap_extend(uintptr_t end) { return end <= heap_end; }

#include "../wasm/shim_alloc.h"

void *memcpy(void *d, const void *s, size_t n) {
    unsigned char *dd = d; const unsigned char *ss = s;
    if ((((uintptr_t)dd | (uintptr_t)ss) & 7) == 0) {
        for (; n >= 8; n -= 8, dd += 8, ss += 8) *(uint64_t *)dd = *(const uint64_t *)ss;
    }
    while (n--) *dd++ = *ss++;
    return d;
}

void *memmove(void *d, const void *s, size_t n) {
    unsigned char *dd = d; const unsigned char *ss = s;
    if (dd < ss) { while (n--) *dd++ = *ss++; }
    else { dd += n; ss += n; while (n--) *--dd = *--ss; }
    return d;
}

void *memset(void *d, int v, size_t n) {
    unsigned char *dd = d;
    if (((uintptr_t)dd & 7) == 0) {
        uint64_t w = (unsigned char)v * 0x0101010101010101ull;
        for (; n >= 8; n -= 8, dd += 8) *(uint64_t *)dd = w;
    }
    while (n--) *dd++ = (unsigned char)v;
    return d;
}

int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++) if (*x != *y) return *x < *y ? -1 : 1;
    return 0;
}

size_t strlen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }

// Hash seeding only (Dictionary/Set): fixed, so runs are reproducible. Never reaches numbers.
void arc4random_buf(void *buf, size_t n) {
    unsigned char *b = buf;
    uint32_t x = 0x9E3779B9u;
    while (n--) { x ^= x << 13; x ^= x >> 17; x ^= x << 5; *b++ = (unsigned char)x; }
}

int putchar(int c) { unsigned char ch = (unsigned char)c; loom_write(1, &ch, 1); return c; }

int loom_main(void);

void _start_c(void) { exit_group(loom_main()); }

// The kernel enters with sp 16-byte aligned; clear the frame pointer and link register and go to C.
__asm__(".text\n.global _start\n.type _start,%function\n_start:\n"
        "  mov x29, #0\n  mov x30, #0\n  bl _start_c\n  brk #0\n");

// IEEE square root (correctly rounded, as on every platform): the hardware's fsqrt. The compiler
// emits calls to these where Swift code calls the C-style sqrt/sqrtf.
double sqrt(double x) { double r; __asm__("fsqrt %d0, %d1" : "=w"(r) : "w"(x)); return r; }
float sqrtf(float x) { float r; __asm__("fsqrt %s0, %s1" : "=w"(r) : "w"(x)); return r; }
