// The allocator shared by the freestanding shims (wasm/shim.c, arm64/shim.c): power-of-two size
// classes with free lists, a 16-byte header before each block, memory never returned. The includer
// defines `shim_heap_start()` (the first usable address, 0 on failure) and `shim_heap_extend(end)`
// (1 when memory up to `end` is usable) before including this file.
#include <stddef.h>
#include <stdint.h>

static uintptr_t heap_top = 0;
static void *free_lists[64];

typedef struct { uint32_t size_class; uint32_t pad[3]; } header_t;  // 16 bytes keeps 16-byte alignment

static void *alloc_class(uint32_t c, uintptr_t align) {
    if (free_lists[c]) {
        void *p = free_lists[c];
        free_lists[c] = *(void **)p;
        return p;
    }
    if (heap_top == 0 && (heap_top = shim_heap_start()) == 0) return 0;
    uintptr_t size = (uintptr_t)1 << c;
    // Every sum is checked: an address that wrapped around would hand out memory already in use.
    if (heap_top > UINTPTR_MAX - sizeof(header_t) - (align - 1)) return 0;
    uintptr_t start = (heap_top + sizeof(header_t) + align - 1) & ~(align - 1);
    if (size > UINTPTR_MAX - start) return 0;
    uintptr_t end = start + size;
    if (!shim_heap_extend(end)) return 0;
    heap_top = end;
    ((header_t *)(start - sizeof(header_t)))->size_class = c;
    return (void *)start;
}

int posix_memalign(void **out, size_t align, size_t size) {
    if (align < 16) align = 16;
    if ((align & (align - 1)) != 0 || align > ((size_t)1 << 16)) return 22;  // EINVAL
    // The largest class is half the address space; anything bigger cannot be served.
    const uint32_t max_class = sizeof(size_t) * 8 - 2;
    if (size > ((size_t)1 << max_class)) return 12;  // ENOMEM
    uint32_t c = 4;
    while (((size_t)1 << c) < size) c++;
    void *p = alloc_class(c, align);
    if (!p) return 12;  // ENOMEM
    *out = p;
    return 0;
}

void *malloc(size_t size) { void *p = 0; posix_memalign(&p, 16, size); return p; }

void free(void *p) {
    if (!p) return;
    uint32_t c = ((header_t *)((uintptr_t)p - sizeof(header_t)))->size_class;
    *(void **)p = free_lists[c];
    free_lists[c] = p;
}
