// The few C symbols an Embedded Swift wasm32 module needs, so it has no imports at all.
// Memory: power-of-two size classes with free lists over memory.grow (never returned).
// Compiled with -ffreestanding -fno-builtin; no floating point here.
#include <stddef.h>
#include <stdint.h>

extern unsigned char __heap_base;

static uintptr_t shim_heap_start(void) { return (uintptr_t)&__heap_base; }

static int shim_heap_extend(uintptr_t end) {
    uintptr_t have = __builtin_wasm_memory_size(0) * 65536u;
    if (end > have) {
        uintptr_t pages = (end - have + 65535u) / 65536u;
        if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1) return 0;
    }
    return 1;
}

#include "shim_alloc.h"

void *memcpy(void *d, const void *s, size_t n) {
    unsigned char *dd = d; const unsigned char *ss = s;
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

int putchar(int c) { return c; }

// 128-bit multiply (compiler-rt's __multi3, wasm32 ABI: result through the first pointer,
// low word first). The standard library's float printing needs it.
void __multi3(uint64_t *out, uint64_t alo, uint64_t ahi, uint64_t blo, uint64_t bhi) {
    uint64_t a0 = alo & 0xFFFFFFFFu, a1 = alo >> 32, b0 = blo & 0xFFFFFFFFu, b1 = blo >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (p01 & 0xFFFFFFFFu) + (p10 & 0xFFFFFFFFu);
    uint64_t lo = (p00 & 0xFFFFFFFFu) | (mid << 32);
    uint64_t hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
    hi += alo * bhi + ahi * blo;
    out[0] = lo;
    out[1] = hi;
}

// Memory for the caller's buffers (JavaScript cannot allocate inside the module): `n` bytes,
// 16-byte aligned, or 0 when the memory cannot grow that far — never a trap, since the allocator
// checks every size. loom_dealloc(0) is ignored.
void *loom_alloc(size_t n) { return malloc(n ? n : 1); }
void loom_dealloc(void *p) { free(p); }
