/* pool.c — the persistent worker pool behind CPUContext.parallelFor (docs/performance.md).
 *
 * One process-wide pool of parked threads. A call posts a job (a function, its context and a
 * count of independent items); the caller and up to `helpers` workers claim items one at a time
 * from a shared counter until none is left, and the call returns when every item has finished.
 * Which thread runs which item never matters: items write disjoint memory (ComputeContext's
 * contract), so results are the same bits for any number of helpers and any schedule.
 *
 * Why not Dispatch: a decode step of SmolLM2 has about 240 parallel sections of 10–100 µs each;
 * concurrentPerform's hand-off cost a large part of that and made two threads slower than one.
 * Here an idle worker spins for a short while (SPIN_NS) on the job word before it sleeps on a
 * condition variable, so back-to-back sections start within a few hundred nanoseconds.
 *
 * Claiming: `next` packs the job's generation (high 32 bits) and the next item (low 32 bits).
 * A worker claims item i of job g with one compare-and-swap from (g, i) to (g, i+1), so a worker
 * that woke late can never take an item of a later job, and the caller need not wait for workers
 * that never took an item. Job fields (fn, ctx, count) are written before `next` is published
 * (release) and read only after a successful claim (acquire); they cannot change while a claimed
 * item is unfinished, since the next job is posted only after `remaining` reached 0.
 *
 * Nesting and concurrency: a call from inside an item (a worker or a participating caller), or
 * while another thread's job holds the pool, runs its items serially on the calling thread. That
 * changes speed only. After fork() the child starts with no pool (the threads did not survive);
 * the first parallel call there creates a new one.
 */
#include "loom_kernels.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ volatile("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

enum { MAX_WORKERS = 255 };
/* How long an idle worker spins before it sleeps. */
static const int64_t SPIN_NS = 200000;

typedef struct loom_pool {
    int workers;                        /* threads started (guarded by `busy`) */
    int spinners;                       /* workers with a smaller id spin before sleeping */
    pthread_t threads[MAX_WORKERS];
    /* The job (valid while `remaining` > 0 for the generation in `next`). */
    loom_task_fn fn;
    void *ctx;
    int64_t count;
    _Atomic uint64_t next;              /* generation << 32 | next item */
    _Atomic int64_t remaining;          /* items not finished */
    _Atomic uint64_t posted;            /* generation << 8 | helpers: what idle workers wait for */
    uint32_t generation;
    atomic_flag busy;                   /* held by the caller whose job runs */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int sleepers;                       /* workers waiting on cv (guarded by mu) */
} loom_pool;

static loom_pool *_Atomic the_pool;
static pthread_mutex_t create_mu = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local int in_item;       /* this thread runs an item (or is a worker) */
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Runs items of generation `gen` until none is left. */
static void run_items(loom_pool *p, uint32_t gen) {
    uint64_t cur = atomic_load_explicit(&p->next, memory_order_acquire);
    for (;;) {
        if ((uint32_t)(cur >> 32) != gen) return;
        uint32_t i = (uint32_t)cur;
        /* count is the job's as long as the generation matches and the claim below succeeds. */
        if ((int64_t)i >= p->count) return;
        if (atomic_compare_exchange_weak_explicit(&p->next, &cur, cur + 1, memory_order_acq_rel,
                                                  memory_order_acquire)) {
            p->fn(p->ctx, (int64_t)i);
            atomic_fetch_sub_explicit(&p->remaining, 1, memory_order_acq_rel);
            cur = atomic_load_explicit(&p->next, memory_order_acquire);
        }
    }
}

typedef struct { loom_pool *pool; int id; } worker_arg;

/* Sleeps on the condition variable until `posted` differs from `seen`; returns the new value. */
static uint64_t sleep_until_posted(loom_pool *p, uint64_t seen) {
    uint64_t cur;
    pthread_mutex_lock(&p->mu);
    p->sleepers++;
    while ((cur = atomic_load_explicit(&p->posted, memory_order_acquire)) == seen) pthread_cond_wait(&p->cv, &p->mu);
    p->sleepers--;
    pthread_mutex_unlock(&p->mu);
    return cur;
}

/* Waits for the next job word: spins for SPIN_NS first, unless this worker is beyond the core
 * count (then spinning would take the time of the threads that work), then sleeps. */
static uint64_t wait_for_job(loom_pool *p, int id, uint64_t seen) {
    uint64_t cur = atomic_load_explicit(&p->posted, memory_order_acquire);
    if (cur != seen) return cur;
    if (id >= p->spinners) return sleep_until_posted(p, seen);
    int64_t start = now_ns();
    for (int spins = 1;; spins++) {
        CPU_RELAX();
        if ((cur = atomic_load_explicit(&p->posted, memory_order_acquire)) != seen) return cur;
        if (spins % 64 == 0 && now_ns() - start > SPIN_NS) return sleep_until_posted(p, seen);
    }
}

static void *worker_main(void *raw) {
    worker_arg a = *(worker_arg *)raw;
    free(raw);
    loom_pool *p = a.pool;
    in_item = 1;
    uint64_t seen = atomic_load_explicit(&p->posted, memory_order_acquire);
    for (;;) {
        seen = wait_for_job(p, a.id, seen);
        int helpers = (int)(seen & 0xff);
        if (a.id < helpers) run_items(p, (uint32_t)(seen >> 8));
    }
    return NULL;
}

static void forget_pool_in_child(void) {
    /* The workers are gone in the child; its first parallel call creates a new pool. */
    atomic_store(&the_pool, NULL);
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    create_mu = fresh;
}

static void register_fork_handler(void) { pthread_atfork(NULL, NULL, forget_pool_in_child); }

static loom_pool *get_pool(void) {
    loom_pool *p = atomic_load_explicit(&the_pool, memory_order_acquire);
    if (p) return p;
    pthread_once(&fork_once, register_fork_handler);
    pthread_mutex_lock(&create_mu);
    p = atomic_load_explicit(&the_pool, memory_order_acquire);
    if (!p) {
        p = calloc(1, sizeof *p);
        if (p) {
            atomic_flag_clear(&p->busy);
            pthread_mutex_init(&p->mu, NULL);
            pthread_cond_init(&p->cv, NULL);
            long cores = sysconf(_SC_NPROCESSORS_ONLN);
            p->spinners = cores > 1 ? (int)(cores - 1) : 0;
            atomic_store_explicit(&the_pool, p, memory_order_release);
        }
    }
    pthread_mutex_unlock(&create_mu);
    return p;
}

/* Starts workers until there are `want` (the caller holds `busy`). Returns how many there are. */
static int grow(loom_pool *p, int want) {
    while (p->workers < want) {
        worker_arg *a = malloc(sizeof *a);
        if (!a) break;
        a->pool = p;
        a->id = p->workers;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 8u << 20);
        int rc = pthread_create(&p->threads[p->workers], &attr, worker_main, a);
        pthread_attr_destroy(&attr);
        if (rc != 0) { free(a); break; }
        pthread_detach(p->threads[p->workers]);
        p->workers++;
    }
    return p->workers;
}

static void run_serially(int64_t count, loom_task_fn fn, void *ctx) {
    for (int64_t i = 0; i < count; i++) fn(ctx, i);
}

void loom_parallel_for(int64_t count, int threads, loom_task_fn fn, void *ctx) {
    if (count <= 0) return;
    int helpers = threads - 1;
    if (helpers > MAX_WORKERS) helpers = MAX_WORKERS;
    if ((int64_t)helpers > count - 1) helpers = (int)(count - 1);
    loom_pool *p = NULL;
    if (helpers <= 0 || in_item || count > 0x7fffffff || !(p = get_pool()) ||
        atomic_flag_test_and_set_explicit(&p->busy, memory_order_acquire)) {
        int was = in_item;
        in_item = 1;
        run_serially(count, fn, ctx);
        in_item = was;
        return;
    }
    helpers = grow(p, helpers) < helpers ? p->workers : helpers;
    if (helpers <= 0) {
        atomic_flag_clear_explicit(&p->busy, memory_order_release);
        in_item = 1;
        run_serially(count, fn, ctx);
        in_item = 0;
        return;
    }
    uint32_t gen = ++p->generation;
    if (gen == 0) gen = ++p->generation;  /* 0 is the initial `posted`: never a job's */
    p->fn = fn;
    p->ctx = ctx;
    p->count = count;
    atomic_store_explicit(&p->remaining, count, memory_order_relaxed);
    atomic_store_explicit(&p->next, (uint64_t)gen << 32, memory_order_release);
    atomic_store_explicit(&p->posted, ((uint64_t)gen << 8) | (uint64_t)helpers, memory_order_release);
    pthread_mutex_lock(&p->mu);
    int wake = p->sleepers > 0;
    pthread_mutex_unlock(&p->mu);
    if (wake) pthread_cond_broadcast(&p->cv);

    in_item = 1;
    run_items(p, gen);
    in_item = 0;
    while (atomic_load_explicit(&p->remaining, memory_order_acquire) > 0) CPU_RELAX();
    atomic_flag_clear_explicit(&p->busy, memory_order_release);
}

void loom_keep_freed_memory(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
}
