/* The C column of scripts/crosscheck: every golden reference case through include/loom.h — the
 * network from its IR JSON, forward on the case's input, 20 trainer steps — printing the
 * `name.forward hash` and `name.train20 hash` lines the golden file has (docs/c-abi.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loom.h"

static void die(const char *what, loom_status s) {
    fprintf(stderr, "%s: status %d: %s\n", what, (int)s, loom_last_error());
    exit(1);
}
#define CHECK(call) do { loom_status s_ = (call); if (s_ != LOOM_OK) die(#call, s_); } while (0)

typedef struct { uint64_t h; } fnv;
static void fnv_byte(fnv *f, uint8_t b) { f->h = (f->h ^ b) * 0x100000001b3ULL; }
static void fnv_u64(fnv *f, uint64_t v) { for (int i = 0; i < 8; i++) { fnv_byte(f, (uint8_t)v); v >>= 8; } }
static void fnv_u32(fnv *f, uint32_t v) { for (int i = 0; i < 4; i++) { fnv_byte(f, (uint8_t)v); v >>= 8; } }

/* A growing buffer filled by a (buf, capacity, needed) call. */
static char *text(loom_status (*get)(size_t, char *, size_t, size_t *), size_t i) {
    size_t need = 0;
    loom_status s = get(i, NULL, 0, &need);
    if (s != LOOM_ERR_BUFFER_TOO_SMALL) die("size query", s);
    char *b = malloc(need);
    CHECK(get(i, b, need, &need));
    return b;
}

static double *data(size_t i, int which, size_t *count) {
    loom_status s = loom_reference_data(i, which, NULL, 0, count);
    if (s != LOOM_ERR_BUFFER_TOO_SMALL) die("loom_reference_data size", s);
    double *d = malloc(*count * sizeof(double));
    CHECK(loom_reference_data(i, which, d, *count, count));
    return d;
}

int main(void) {
    size_t cases;
    CHECK(loom_reference_count(&cases));
    for (size_t i = 0; i < cases; i++) {
        char *name = text(loom_reference_name, i), *ir = text(loom_reference_ir, i);
        int f64 = strlen(name) > 4 && strcmp(name + strlen(name) - 4, ".f64") == 0;
        loom_network *net;
        CHECK(loom_network_from_json(ir, &net));
        size_t in_n, out_n, nx, ntx, nt, rank, dims[8];
        CHECK(loom_network_input_size(net, &in_n));
        CHECK(loom_network_output_size(net, &out_n));
        CHECK(loom_network_output_shape(net, dims, 8, &rank));
        double *x = data(i, 0, &nx), *tx = data(i, 1, &ntx), *tt = data(i, 2, &nt);
        size_t batch = nx / in_n, per = nt / 32;
        fnv h = {0xcbf29ce484222325ULL};
        fnv_u64(&h, rank + 1);
        fnv_u64(&h, batch);
        for (size_t d = 0; d < rank; d++) fnv_u64(&h, dims[d]);
        if (f64) {
            double *y = malloc(batch * out_n * sizeof(double));
            CHECK(loom_network_forward_f64(net, x, batch, y, batch * out_n));
            for (size_t k = 0; k < batch * out_n; k++) {
                uint64_t b; memcpy(&b, &y[k], 8);
                fnv_u64(&h, y[k] != y[k] ? 0x7FF8000000000000ULL : b);
            }
            free(y);
        } else {
            float *xf = malloc(nx * sizeof(float)), *y = malloc(batch * out_n * sizeof(float));
            for (size_t k = 0; k < nx; k++) xf[k] = (float)x[k];
            CHECK(loom_network_forward(net, xf, batch, y, batch * out_n));
            for (size_t k = 0; k < batch * out_n; k++) {
                uint32_t b; memcpy(&b, &y[k], 4);
                fnv_u32(&h, y[k] != y[k] ? 0x7FC00000U : b);
            }
            free(xf); free(y);
        }
        printf("%s.forward %016llx\n", name, (unsigned long long)h.h);

        loom_trainer *tr;
        CHECK(loom_trainer_new(net, &tr));
        float *txf = malloc(ntx * sizeof(float)), *ttf = malloc(nt * sizeof(float));
        for (size_t k = 0; k < ntx; k++) txf[k] = (float)tx[k];
        for (size_t k = 0; k < nt; k++) ttf[k] = (float)tt[k];
        for (int s = 0; s < 20; s++) {
            size_t first = (size_t)(s % 4) * 8;
            if (f64) CHECK(loom_trainer_step_f64(tr, tx + first * in_n, 8, tt + first * per, 8 * per, NULL));
            else CHECK(loom_trainer_step(tr, txf + first * in_n, 8, ttf + first * per, 8 * per, NULL));
        }
        uint64_t wh;
        CHECK(loom_network_weights_hash(net, &wh));
        printf("%s.train20 %016llx\n", name, (unsigned long long)wh);
        loom_trainer_free(tr);
        loom_network_free(net);
        free(name); free(ir); free(x); free(tx); free(tt); free(txf); free(ttf);
    }
    return 0;
}
