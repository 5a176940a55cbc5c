/* Exercises every function of include/loom.h, including the error paths (scripts/test-c). */
#include "loom.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0, checks = 0;
#define CHECK(cond, ...) do { checks++; if (!(cond)) { failures++; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__); fprintf(stderr, " (last error: %s)\n", loom_last_error()); } } while (0)
#define EXPECT(call, status) do { loom_status s_ = (call); CHECK(s_ == (status), "%s returned %d, expected %d", #call, s_, status); } while (0)

static const char *XOR =
    "{\"format\": \"loom\", \"version\": 1, \"name\": \"xor\", \"seed\": 4, \"input\": {\"shape\": [2]},"
    " \"layers\": [{\"type\": \"dense\", \"units\": 8, \"activation\": \"tanh\"}, {\"type\": \"dense\", \"units\": 2}],"
    " \"training\": {\"loss\": \"cross_entropy\", \"optimizer\": {\"type\": \"adamw\", \"lr\": 0.05}, \"epochs\": 1, \"batch_size\": 4}}";

static const float X[8] = {0, 0, 0, 1, 1, 0, 1, 1};
static const float T[4] = {0, 1, 1, 0};

struct job { loom_network *net; float y[8]; loom_status s; };
static void *run_forward(void *p) {
    struct job *j = p;
    for (int i = 0; i < 50 && j->s == LOOM_OK; i++) j->s = loom_network_forward(j->net, X, 4, j->y, 8);
    return NULL;
}

/* Per-thread errors: each thread's failure keeps its own message. */
struct err_job { int kind; int ok; };
static void *make_error(void *p) {
    struct err_job *j = p;
    j->ok = 1;
    for (int i = 0; i < 200 && j->ok; i++) {
        loom_network *n = NULL;
        if (j->kind == 0) {
            j->ok = loom_network_from_json("{\"format\": ", &n) == LOOM_ERR_INVALID_JSON && strstr(loom_last_error(), "JSON") != NULL;
        } else if (j->kind == 1) {
            j->ok = loom_network_from_json("\xc3\x28", &n) == LOOM_ERR_INVALID_ARGUMENT && strstr(loom_last_error(), "UTF-8") != NULL;
        } else {
            j->ok = loom_network_forward(NULL, X, 1, NULL, 0) == LOOM_ERR_INVALID_ARGUMENT && strstr(loom_last_error(), "NULL") != NULL;
        }
    }
    return NULL;
}

static char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    size_t got = fread(b, 1, (size_t)n, f);
    fclose(f);
    b[got] = 0;
    if (size) *size = got;
    return b;
}

struct pieces { char text[4096]; size_t len; int calls; };
static void on_text(void *user, const char *piece) {
    struct pieces *p = user;
    size_t n = strlen(piece);
    if (p->len + n < sizeof p->text) { memcpy(p->text + p->len, piece, n + 1); p->len += n; }
    p->calls++;
}

/* A linear 2 → 3 network in f64 with known structure: backward against the closed form and
 * against central differences. */
static const char *LINEAR64 =
    "{\"format\": \"loom\", \"version\": 1, \"dtype\": \"f64\", \"seed\": 7, \"input\": {\"shape\": [2]},"
    " \"layers\": [{\"type\": \"dense\", \"units\": 4, \"activation\": \"tanh\"}, {\"type\": \"dense\", \"units\": 3}]}";

static void test_backward(void) {
    loom_network *n = NULL;
    EXPECT(loom_network_from_json(LINEAR64, &n), LOOM_OK);
    size_t pc = 0, rank = 0, dims[4];
    EXPECT(loom_network_parameter_count(n, &pc), LOOM_OK);
    CHECK(pc == 2 * 4 + 4 + 4 * 3 + 3, "parameter count %zu", pc);
    EXPECT(loom_network_output_shape(n, dims, 4, &rank), LOOM_OK);
    CHECK(rank == 1 && dims[0] == 3, "output shape rank %zu", rank);
    EXPECT(loom_network_output_shape(n, dims, 0, &rank), LOOM_ERR_BUFFER_TOO_SMALL);
    const double x[4] = {0.3, -0.7, 1.1, 0.25}, dy[6] = {0.5, -1, 2, 0.125, 0.75, -0.25};
    double dx[4], grads[64];
    EXPECT(loom_network_backward_f64(n, x, 2, dy, dx, 4, grads, pc), LOOM_OK);
    /* dL/dx for L = sum(y · dy), by central differences in float64. */
    double worst = 0;
    for (int i = 0; i < 4; i++) {
        double xp[4], xm[4], yp[6], ym[6], e = 1e-6, lp = 0, lm = 0;
        memcpy(xp, x, sizeof x); memcpy(xm, x, sizeof x);
        xp[i] += e; xm[i] -= e;
        EXPECT(loom_network_forward_f64(n, xp, 2, yp, 6), LOOM_OK);
        EXPECT(loom_network_forward_f64(n, xm, 2, ym, 6), LOOM_OK);
        for (int k = 0; k < 6; k++) { lp += yp[k] * dy[k]; lm += ym[k] * dy[k]; }
        double fd = (lp - lm) / (2 * e), d = fd - dx[i];
        if (d < 0) d = -d;
        if (d > worst) worst = d;
    }
    CHECK(worst < 1e-7, "backward dx vs finite differences: %g", worst);
    /* The last bias's gradient is the column sum of dy (parameter order: weight, bias per layer). */
    CHECK(grads[pc - 3] == dy[0] + dy[3] && grads[pc - 2] == dy[1] + dy[4] && grads[pc - 1] == dy[2] + dy[5],
          "bias gradient %g %g %g", grads[pc - 3], grads[pc - 2], grads[pc - 1]);
    /* Deterministic: the same call gives the same bits; a float call agrees after rounding. */
    double dx2[4], grads2[64];
    EXPECT(loom_network_backward_f64(n, x, 2, dy, dx2, 4, grads2, pc), LOOM_OK);
    CHECK(memcmp(dx, dx2, sizeof dx) == 0 && memcmp(grads, grads2, pc * sizeof(double)) == 0, "backward not repeatable");
    EXPECT(loom_network_backward_f64(n, x, 2, dy, NULL, 0, grads2, pc), LOOM_OK);
    EXPECT(loom_network_backward_f64(n, x, 2, dy, dx2, 3, NULL, 0), LOOM_ERR_BUFFER_TOO_SMALL);
    EXPECT(loom_network_backward_f64(n, x, 2, dy, dx2, 4, grads2, pc - 1), LOOM_ERR_BUFFER_TOO_SMALL);
    EXPECT(loom_network_backward_f64(n, x, 2, NULL, dx2, 4, NULL, 0), LOOM_ERR_INVALID_ARGUMENT);
    const double inf_dy[6] = {1.0 / 0.0, 0, 0, 0, 0, 0};
    EXPECT(loom_network_backward_f64(n, x, 2, inf_dy, dx2, 4, NULL, 0), LOOM_ERR_NON_FINITE);
    float xf[4] = {0.3f, -0.7f, 1.1f, 0.25f}, dyf[6] = {0.5f, -1, 2, 0.125f, 0.75f, -0.25f}, dxf[4];
    EXPECT(loom_network_backward(n, xf, 2, dyf, dxf, 4, NULL, 0), LOOM_OK);
    CHECK(dxf[0] != 0 && (double)dxf[0] - dx[0] < 1e-6 && dx[0] - (double)dxf[0] < 1e-6, "float backward %g vs %g", dxf[0], dx[0]);

    /* Any optimizer and scheduler: SGD with momentum and step decay; progress reports the rate. */
    loom_trainer *t = NULL;
    EXPECT(loom_trainer_new_with(n, "{\"loss\": \"mse\", \"optimizer\": {\"type\": \"sgd\", \"lr\": 0.1, \"momentum\": 0.9},"
                                    " \"scheduler\": {\"type\": \"step\", \"step_size\": 2, \"gamma\": 0.5}}", &t), LOOM_OK);
    size_t steps = 9;
    double lr = 0, l0 = 0, l1 = 0;
    EXPECT(loom_trainer_progress(t, &steps, &lr), LOOM_OK);
    CHECK(steps == 0 && lr == 0.1, "progress %zu %g", steps, lr);
    for (int i = 0; i < 4; i++) EXPECT(loom_trainer_step_f64(t, x, 2, dy, 6, i == 0 ? &l0 : &l1), LOOM_OK);
    EXPECT(loom_trainer_progress(t, &steps, &lr), LOOM_OK);
    CHECK(steps == 4 && lr == 0.025, "progress after 4 steps: %zu %g", steps, lr);
    CHECK(l1 < l0, "sgd loss %g → %g", l0, l1);
    loom_trainer *bad = NULL;
    EXPECT(loom_trainer_new_with(n, "{\"optimizer\": {\"type\": \"nope\"}}", &bad), LOOM_ERR_INVALID_NETWORK);
    EXPECT(loom_trainer_new_with(n, "{", &bad), LOOM_ERR_INVALID_JSON);
    EXPECT(loom_trainer_progress((loom_trainer *)n, &steps, &lr), LOOM_ERR_INVALID_ARGUMENT);  /* a network is not a trainer */
    loom_trainer_free(t);
    loom_network_free(n);
}

/* In-memory JSON and safetensors: the same output bits after a round trip. */
static void test_memory_formats(loom_network *net) {
    float y[8], y2[8], y3[8];
    EXPECT(loom_network_forward(net, X, 4, y, 8), LOOM_OK);
    size_t need = 0;
    EXPECT(loom_network_to_json(net, NULL, 0, &need), LOOM_ERR_BUFFER_TOO_SMALL);
    char *json = malloc(need);
    EXPECT(loom_network_to_json(net, json, need, &need), LOOM_OK);
    EXPECT(loom_network_to_safetensors(net, NULL, NULL, 0, &need), LOOM_ERR_BUFFER_TOO_SMALL);
    uint8_t *st = malloc(need);
    size_t st_n = need;
    EXPECT(loom_network_to_safetensors(net, NULL, st, st_n, &need), LOOM_OK);
    loom_network *a = NULL, *b = NULL;
    EXPECT(loom_network_from_json(json, &a), LOOM_OK);
    EXPECT(loom_network_from_safetensors(st, st_n, &b), LOOM_OK);
    EXPECT(loom_network_forward(a, X, 4, y2, 8), LOOM_OK);
    EXPECT(loom_network_forward(b, X, 4, y3, 8), LOOM_OK);
    CHECK(memcmp(y, y2, sizeof y) == 0 && memcmp(y, y3, sizeof y) == 0, "in-memory round trip changed the output");
    EXPECT(loom_network_from_safetensors(st, st_n / 2, &b), LOOM_ERR_INVALID_MODEL);
    EXPECT(loom_network_to_safetensors(net, "f5", st, st_n, &need), LOOM_ERR_INVALID_ARGUMENT);
    /* f64 forward of a float network: inputs rounded to float, outputs exact. */
    double xd[8], yd[8];
    for (int i = 0; i < 8; i++) xd[i] = X[i];
    EXPECT(loom_network_forward_f64(net, xd, 4, yd, 8), LOOM_OK);
    for (int i = 0; i < 8; i++) CHECK((float)yd[i] == y[i], "forward_f64 %d", i);
    loom_network_free(a);
    loom_network_free(b);
    free(json);
    free(st);
}

static void test_tokenizer(void) {
    char *json = read_file("Fixtures/tokenizers/all-MiniLM-L6-v2.tokenizer.json", NULL);
    CHECK(json != NULL, "tokenizer fixture missing");
    if (!json) return;
    loom_tokenizer *t = NULL;
    EXPECT(loom_tokenizer_from_json(json, &t), LOOM_OK);
    size_t vocab = 0, count = 0, need = 0;
    EXPECT(loom_tokenizer_vocab_size(t, &vocab), LOOM_OK);
    CHECK(vocab == 30522, "MiniLM vocabulary %zu", vocab);
    const char *text = "Hello, world!";
    int32_t ids[32];
    EXPECT(loom_tokenizer_encode(t, text, strlen(text), 1, ids, 32, &count), LOOM_OK);
    /* [CLS] hello , world ! [SEP] as the tokenizers library gives them. */
    const int32_t want[6] = {101, 7592, 1010, 2088, 999, 102};
    CHECK(count == 6 && memcmp(ids, want, sizeof want) == 0, "ids (%zu) %d %d %d", count, ids[0], ids[1], ids[2]);
    EXPECT(loom_tokenizer_encode(t, text, strlen(text), 1, ids, 3, &count), LOOM_ERR_BUFFER_TOO_SMALL);
    CHECK(count == 6, "count when short: %zu", count);
    char out[64];
    EXPECT(loom_tokenizer_decode(t, ids, 6, 1, out, sizeof out, &need), LOOM_OK);
    CHECK(strcmp(out, "hello, world!") == 0, "decoded \"%s\"", out);
    EXPECT(loom_tokenizer_decode(t, ids, 6, 0, out, 4, &need), LOOM_ERR_BUFFER_TOO_SMALL);
    EXPECT(loom_tokenizer_encode(t, NULL, 0, 1, ids, 32, &count), LOOM_OK);  /* empty text: NULL is fine */
    CHECK(count == 2 && ids[0] == 101 && ids[1] == 102, "empty text with specials: %zu ids", count);
    EXPECT(loom_tokenizer_encode(t, "", 0, 0, NULL, 0, &count), LOOM_OK);  /* an empty result fits a NULL buffer */
    CHECK(count == 0, "empty result count %zu", count);
    EXPECT(loom_tokenizer_encode(t, NULL, 3, 1, ids, 32, &count), LOOM_ERR_INVALID_ARGUMENT);
    EXPECT(loom_tokenizer_encode(t, "\xe2\x82", 2, 1, ids, 32, &count), LOOM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(loom_last_error(), "UTF-8") != NULL, "invalid UTF-8 message: %s", loom_last_error());
    const int32_t bad_ids[1] = {1 << 30};
    EXPECT(loom_tokenizer_decode(t, bad_ids, 1, 0, out, sizeof out, &need), LOOM_ERR_INVALID_ARGUMENT);
    EXPECT(loom_tokenizer_from_json("{\"model\": {}}", &t), LOOM_ERR_INVALID_MODEL);
    loom_tokenizer_free(t);
    EXPECT(loom_tokenizer_vocab_size(t, &vocab), LOOM_ERR_INVALID_ARGUMENT);
    loom_tokenizer_free(t);  /* double free reported */
    loom_tokenizer *f = NULL;
    EXPECT(loom_tokenizer_load("Fixtures/tokenizers/all-MiniLM-L6-v2.tokenizer.json", &f), LOOM_OK);
    EXPECT(loom_tokenizer_encode(f, text, strlen(text), 1, ids, 32, &count), LOOM_OK);
    CHECK(count == 6 && memcmp(ids, want, sizeof want) == 0, "tokenizer from file");
    loom_tokenizer_free(f);
    EXPECT(loom_tokenizer_load("/nonexistent/tokenizer.json", &f), LOOM_ERR_IO);
    free(json);
}

/* Generation with SmolLM2 (fetched by scripts/fetch-models), weights dequantized to f32 (as
 * transformers runs them; it answers "Paris"): greedy is repeatable, the streamed
 * pieces add up to the text, and a short buffer keeps the text for loom_generator_last_text. */
static void test_generator(const char *gguf) {
    loom_generator *g = NULL;
    EXPECT(loom_generator_load(gguf, 0, &g), LOOM_OK);
    if (!g) return;
    EXPECT(loom_generator_set_threads(g, 2), LOOM_OK);
    char a[4096], b[4096];
    size_t need = 0;
    struct pieces p = {{0}, 0, 0};
    EXPECT(loom_generator_generate(g, "What is the capital of France?", 1, 12, NULL, on_text, &p, a, sizeof a, &need), LOOM_OK);
    CHECK(strlen(a) > 0 && strcmp(a, p.text) == 0 && p.calls > 1, "streamed \"%s\" vs \"%s\" (%d calls)", p.text, a, p.calls);
    CHECK(strstr(a, "Paris") != NULL, "SmolLM2 answered \"%s\"", a);
    EXPECT(loom_generator_set_threads(g, 1), LOOM_OK);
    EXPECT(loom_generator_generate(g, "What is the capital of France?", 1, 12, NULL, NULL, NULL, b, 2, &need), LOOM_ERR_BUFFER_TOO_SMALL);
    EXPECT(loom_generator_last_text(g, b, sizeof b, &need), LOOM_OK);
    CHECK(strcmp(a, b) == 0, "greedy text differs between runs/threads: \"%s\" vs \"%s\"", a, b);
    EXPECT(loom_generator_generate(g, "Once upon a time", 0, 8, "{\"temperature\": 0.8, \"top_k\": 40, \"seed\": 3}", NULL, NULL, a, sizeof a, &need), LOOM_OK);
    EXPECT(loom_generator_generate(g, "Once upon a time", 0, 8, "{\"temperature\": 0.8, \"top_k\": 40, \"seed\": 3}", NULL, NULL, b, sizeof b, &need), LOOM_OK);
    CHECK(strcmp(a, b) == 0, "seeded sampling not repeatable");
    EXPECT(loom_generator_generate(g, "x", 0, 4, "{\"temperature\": -1}", NULL, NULL, a, sizeof a, &need), LOOM_ERR_INVALID_ARGUMENT);
    EXPECT(loom_generator_generate(g, "x", 0, 4, "{\"temprature\": 1}", NULL, NULL, a, sizeof a, &need), LOOM_ERR_INVALID_ARGUMENT);
    EXPECT(loom_generator_generate(g, "x", 0, 100000, NULL, NULL, NULL, a, sizeof a, &need), LOOM_ERR_INVALID_INPUT);
    loom_tokenizer *t = NULL;
    EXPECT(loom_generator_tokenizer(g, &t), LOOM_OK);
    size_t vocab = 0;
    EXPECT(loom_tokenizer_vocab_size(t, &vocab), LOOM_OK);
    CHECK(vocab == 49152, "SmolLM2 vocabulary %zu", vocab);
    loom_tokenizer_free(t);
    loom_generator_free(g);
    EXPECT(loom_generator_last_text(g, b, sizeof b, &need), LOOM_ERR_INVALID_ARGUMENT);
    EXPECT(loom_generator_load("/nonexistent.gguf", 1, &g), LOOM_ERR_IO);
}

/* The reference cases: the first case's IR builds, and its data have the documented sizes. */
static void test_reference_cases(void) {
    size_t count = 0, need = 0;
    EXPECT(loom_reference_count(&count), LOOM_OK);
    CHECK(count == 689, "reference cases %zu", count);
    char name[64];
    EXPECT(loom_reference_name(0, name, sizeof name, &need), LOOM_OK);
    CHECK(strcmp(name, "dense_linear.f32") == 0, "first case %s", name);
    EXPECT(loom_reference_name(count, name, sizeof name, &need), LOOM_ERR_INVALID_ARGUMENT);
    EXPECT(loom_reference_data(0, 3, NULL, 0, &need), LOOM_ERR_INVALID_ARGUMENT);
    EXPECT(loom_reference_data(0, 0, NULL, 0, &need), LOOM_ERR_BUFFER_TOO_SMALL);
    CHECK(need == 8 * 16 || need % 8 == 0, "forward input %zu values", need);
}

/* Step execution and tweening. A pipeline of the 3-layer network below (latency 3) gives each
 * sample exactly loom_network_forward's bits; StepBP with one sample in flight at a time is the
 * trainer on batches of one; a tween learner with one sample in flight is loom_tween_step. */
static const char *MLP3 =
    "{\"format\": \"loom\", \"version\": 1, \"seed\": 11, \"input\": {\"shape\": [2]},"
    " \"layers\": [{\"type\": \"dense\", \"units\": 6, \"activation\": \"tanh\"}, {\"type\": \"dense\", \"units\": 5, \"activation\": \"relu\"},"
    " {\"type\": \"dense\", \"units\": 2}]}";
static const char *SGD_CE = "{\"loss\": \"cross_entropy\", \"optimizer\": {\"type\": \"sgd\", \"lr\": 0.1}}";

/* Feeds sample i (class T[i]) and ticks until it leaves the pipeline; returns the ticks taken. */
static int feed_and_drain(loom_step *st, int i, float *y, double *loss) {
    int done = 0, ticks = 1;
    uint64_t tag = 99;
    EXPECT(loom_step_tick(st, X + 2 * i, T + i, 1, &done, &tag, y, 2, loss), LOOM_OK);
    while (!done && ticks < 10) { EXPECT(loom_step_tick(st, NULL, NULL, 0, &done, &tag, y, 2, loss), LOOM_OK); ticks++; }
    return ticks;
}

static void test_step(void) {
    loom_network *n = NULL;
    EXPECT(loom_network_from_json(MLP3, &n), LOOM_OK);
    float ref[8];
    EXPECT(loom_network_forward(n, X, 4, ref, 8), LOOM_OK);

    /* Inference: latency 3; outputs in feeding order, each equal to the batch forward's row. */
    for (int concurrent = 0; concurrent < 2; concurrent++) {
        loom_step *st = NULL;
        EXPECT(loom_step_new(n, concurrent ? "{\"concurrent\": true}" : NULL, &st), LOOM_OK);
        size_t latency = 0;
        EXPECT(loom_step_latency(st, &latency), LOOM_OK);
        CHECK(latency == 3, "latency %zu", latency);
        float y[2];
        int done = 0, got = 0;
        uint64_t tag = 0;
        double loss = 0;
        for (int k = 0; k < 7; k++) {
            const float *x = k < 4 ? X + 2 * k : NULL;
            EXPECT(loom_step_tick(st, x, NULL, 0, &done, &tag, y, 2, &loss), LOOM_OK);
            CHECK(done == (k >= 2 && k <= 5), "tick %d done %d", k, done);
            if (done) {
                CHECK(tag == (uint64_t)got && memcmp(y, ref + 2 * got, sizeof y) == 0 && loss != loss, "sample %d: tag %llu", got, (unsigned long long)tag);
                got++;
            }
        }
        uint64_t ticks = 0, fed = 0, updates = 9;
        EXPECT(loom_step_progress(st, &ticks, &fed, &updates), LOOM_OK);
        CHECK(ticks == 7 && fed == 4 && updates == 0 && got == 4, "progress %llu %llu %llu", (unsigned long long)ticks, (unsigned long long)fed, (unsigned long long)updates);
        size_t need = 0;
        char report[64];
        EXPECT(loom_step_report_json(st, report, sizeof report, &need), LOOM_OK);
        CHECK(strcmp(report, "{\"tag\":3}") == 0, "report %s", report);
        /* Errors: a target without a learner, a short output buffer (checked before ticking). */
        EXPECT(loom_step_tick(st, X, T, 1, &done, &tag, y, 2, &loss), LOOM_ERR_INVALID_ARGUMENT);
        EXPECT(loom_step_tick(st, X, NULL, 0, &done, &tag, y, 1, &loss), LOOM_ERR_BUFFER_TOO_SMALL);
        EXPECT(loom_step_progress(st, &ticks, &fed, NULL), LOOM_OK);
        CHECK(ticks == 7 && fed == 4, "a failed tick changed the state: %llu %llu", (unsigned long long)ticks, (unsigned long long)fed);
        loom_step_free(st);
    }

    /* StepBP, one sample in flight: the same weights as the trainer on batches of one. */
    loom_network *a = NULL, *b = NULL;
    EXPECT(loom_network_from_json(MLP3, &a), LOOM_OK);
    EXPECT(loom_network_from_json(MLP3, &b), LOOM_OK);
    char opts[256];
    snprintf(opts, sizeof opts, "{\"learner\": \"backprop\", \"training\": %s}", SGD_CE);
    loom_step *sa = NULL;
    EXPECT(loom_step_new(a, opts, &sa), LOOM_OK);
    loom_trainer *tb = NULL;
    EXPECT(loom_trainer_new_with(b, SGD_CE, &tb), LOOM_OK);
    for (int r = 0; r < 3; r++) {
        for (int i = 0; i < 4; i++) {
            float y[2], lb = 0;
            double la = 0;
            CHECK(feed_and_drain(sa, i, y, &la) == 3, "StepBP latency");
            EXPECT(loom_trainer_step(tb, X + 2 * i, 1, T + i, 1, &lb), LOOM_OK);
            CHECK((float)la == lb, "StepBP loss %.9g, trainer %.9g", la, (double)lb);
        }
    }
    uint64_t ha = 0, hb = 1, updates = 0;
    EXPECT(loom_network_weights_hash(a, &ha), LOOM_OK);
    EXPECT(loom_network_weights_hash(b, &hb), LOOM_OK);
    CHECK(ha == hb, "StepBP weights %016llx, trainer %016llx", (unsigned long long)ha, (unsigned long long)hb);
    EXPECT(loom_step_progress(sa, NULL, NULL, &updates), LOOM_OK);
    CHECK(updates == 12, "updates %llu", (unsigned long long)updates);
    float y[2];
    int done = 0;
    EXPECT(loom_step_tick(sa, X, NULL, 0, &done, NULL, y, 2, NULL), LOOM_ERR_INVALID_ARGUMENT);  /* a learner needs targets */
    CHECK(strstr(loom_last_error(), "target") != NULL, "message: %s", loom_last_error());
    EXPECT(loom_step_tick(sa, X, T, 3, &done, NULL, y, 2, NULL), LOOM_ERR_SHAPE_MISMATCH);
    float badclass = 1.5f;
    EXPECT(loom_step_tick(sa, X, &badclass, 1, &done, NULL, y, 2, NULL), LOOM_ERR_INVALID_INPUT);
    loom_step_free(sa);
    loom_trainer_free(tb);

    /* Streaming (a sample every tick, updates while others are in flight): weight stashing changes
     * the result (each stage's backward uses the weights it ran with) and repeats bit for bit. */
    uint64_t hs[3];
    for (int k = 0; k < 3; k++) {
        loom_network *c = NULL;
        EXPECT(loom_network_from_json(MLP3, &c), LOOM_OK);
        snprintf(opts, sizeof opts, "{\"learner\": \"backprop\", \"training\": %s%s}", SGD_CE, k < 2 ? ", \"weight_stashing\": true" : "");
        loom_step *s = NULL;
        EXPECT(loom_step_new(c, opts, &s), LOOM_OK);
        float yy[2];
        for (int i = 0; i < 12; i++) EXPECT(loom_step_tick(s, X + 2 * (i % 4), T + i % 4, 1, NULL, NULL, yy, 2, NULL), LOOM_OK);
        EXPECT(loom_network_weights_hash(c, &hs[k]), LOOM_OK);
        loom_step_free(s);
        loom_network_free(c);
    }
    CHECK(hs[0] == hs[1] && hs[0] != hs[2], "weight stashing %016llx %016llx, without %016llx",
          (unsigned long long)hs[0], (unsigned long long)hs[1], (unsigned long long)hs[2]);

    /* StepTween (gap closing), one sample in flight: the same weights as whole-pass tween steps. */
    const char *cfg = "{\"mode\": \"gap_closing\", \"rate\": 0.05}";
    snprintf(opts, sizeof opts, "{\"learner\": \"tween\", \"tween\": %s}", cfg);
    EXPECT(loom_step_new(a, opts, &sa), LOOM_OK);
    loom_tween *tw = NULL;
    EXPECT(loom_tween_new(b, cfg, &tw), LOOM_OK);
    for (int i = 0; i < 4; i++) {
        double la = 0, lb = 1;
        feed_and_drain(sa, i, y, &la);
        EXPECT(loom_tween_step(tw, X + 2 * i, 1, T + i, 1, &lb), LOOM_OK);
        CHECK(la == lb, "StepTween loss %.17g, tween %.17g", la, lb);
    }
    EXPECT(loom_network_weights_hash(a, &ha), LOOM_OK);
    EXPECT(loom_network_weights_hash(b, &hb), LOOM_OK);
    CHECK(ha == hb, "StepTween weights %016llx, tween %016llx", (unsigned long long)ha, (unsigned long long)hb);
    size_t need = 0;
    EXPECT(loom_tween_report_json(tw, NULL, 0, &need), LOOM_ERR_BUFFER_TOO_SMALL);
    char *rep = malloc(need);
    EXPECT(loom_tween_report_json(tw, rep, need, &need), LOOM_OK);
    CHECK(strstr(rep, "\"link_budgets\":[") != NULL && strstr(rep, "\"updated\":[") != NULL, "tween report %s", rep);
    free(rep);
    EXPECT(loom_step_report_json(sa, NULL, 0, &need), LOOM_ERR_BUFFER_TOO_SMALL);
    rep = malloc(need);
    EXPECT(loom_step_report_json(sa, rep, need, &need), LOOM_OK);
    CHECK(strstr(rep, "\"tag\":3") != NULL && strstr(rep, "\"gaps\":[") != NULL, "step tween report %s", rep);
    free(rep);
    /* Values as targets (output_size values per sample), in f64. */
    double xd[2] = {0.5, -0.25}, td[2] = {1, 0}, ld = 0;
    EXPECT(loom_tween_step_f64(tw, xd, 1, td, 2, &ld), LOOM_OK);
    CHECK(ld > 0, "tween loss %g", ld);
    EXPECT(loom_tween_step(tw, X, 1, T, 3, NULL), LOOM_ERR_SHAPE_MISMATCH);
    float far = 5;
    EXPECT(loom_tween_step(tw, X, 1, &far, 1, NULL), LOOM_ERR_INVALID_INPUT);  /* as the trainer: status 6 */
    EXPECT(loom_step_tick(sa, X, &far, 1, &done, NULL, y, 2, NULL), LOOM_ERR_INVALID_INPUT);
    loom_step_free(sa);
    loom_tween_free(tw);

    /* The f64 tick on a pipeline of a float network: values rounded once, same bits. */
    loom_step *st = NULL;
    EXPECT(loom_step_new(n, "{\"learner\": \"none\", \"stash_limit\": 4}", &st), LOOM_OK);
    double x64[2] = {0, 1}, y64[2] = {0, 0};
    EXPECT(loom_step_tick_f64(st, NULL, NULL, 0, &done, NULL, y64, 2, NULL), LOOM_ERR_INVALID_ARGUMENT);  /* never fed */
    CHECK(strstr(loom_last_error(), "never been given an input") != NULL, "message: %s", loom_last_error());
    for (int k = 0; k < 3; k++) EXPECT(loom_step_tick_f64(st, k == 0 ? x64 : NULL, NULL, 0, &done, NULL, y64, 2, NULL), LOOM_OK);
    CHECK(done && (float)y64[0] == ref[2] && (float)y64[1] == ref[3], "f64 tick %g %g", y64[0], y64[1]);

    /* Bad options and configs; wrong-kind, freed and double-freed handles. */
    loom_step *bad = NULL;
    EXPECT(loom_step_new(n, "{\"learner\": \"magic\"}", &bad), LOOM_ERR_INVALID_ARGUMENT);
    EXPECT(loom_step_new(n, "{\"latency\": 2}", &bad), LOOM_ERR_INVALID_ARGUMENT);
    EXPECT(loom_step_new(n, "{\"learner\": \"backprop\"}", &bad), LOOM_ERR_INVALID_ARGUMENT);  /* no training block */
    EXPECT(loom_step_new(n, "{\"update_every\": 2}", &bad), LOOM_ERR_INVALID_ARGUMENT);
    EXPECT(loom_step_new(n, "{\"stash_limit\": 0}", &bad), LOOM_ERR_INVALID_ARGUMENT);
    EXPECT(loom_step_new(n, "{\"weight_stashing\": true}", &bad), LOOM_ERR_INVALID_ARGUMENT);  /* needs a learner */
    EXPECT(loom_step_new(n, "{\"learner\": \"tween\", \"tween\": {\"pruning\": true}}", &bad), LOOM_ERR_INVALID_ARGUMENT);
    EXPECT(loom_step_new(n, "{", &bad), LOOM_ERR_INVALID_JSON);
    CHECK(bad == NULL, "no handle on failure");
    loom_tween *badt = NULL;
    EXPECT(loom_tween_new(n, "{\"mode\": \"sideways\"}", &badt), LOOM_ERR_INVALID_ARGUMENT);
    EXPECT(loom_tween_new(n, "{\"rate\": -1}", &badt), LOOM_ERR_INVALID_ARGUMENT);
    EXPECT(loom_tween_new(n, "{\"rates\": 1}", &badt), LOOM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(loom_last_error(), "config_json.rates") != NULL, "message: %s", loom_last_error());
    EXPECT(loom_step_latency((loom_step *)n, NULL), LOOM_ERR_INVALID_ARGUMENT);
    EXPECT(loom_tween_step((loom_tween *)st, X, 1, T, 1, NULL), LOOM_ERR_INVALID_ARGUMENT);
    loom_step_free(st);
    EXPECT(loom_step_tick(st, X, NULL, 0, &done, NULL, y, 2, NULL), LOOM_ERR_INVALID_ARGUMENT);
    loom_step_free(st);
    CHECK(strstr(loom_last_error(), "freed twice") != NULL, "double free: %s", loom_last_error());
    loom_tween_free(NULL);
    loom_network_free(a);
    loom_network_free(b);
    loom_network_free(n);
}

/* Hostile input (issue 16): boundary values are statuses with messages, never a trap or an
 * allocation that kills the host; the memory budget is the caller's to set. */
static void test_hostile(void) {
    loom_network *n = NULL;
    EXPECT(loom_network_from_json("{\"format\":\"loom\",\"version\":1,\"input\":{\"shape\":[6]},\"layers\":[{\"type\":\"softmax\","
                                  "\"variant\":\"grid\",\"rows\":9223372036854775807,\"cols\":3}]}", &n), LOOM_ERR_INVALID_NETWORK);
    CHECK(n == NULL && strstr(loom_last_error(), "layers[0].rows") != NULL, "grid rows near 2^63: %s", loom_last_error());
    EXPECT(loom_network_from_json("{\"format\":\"loom\",\"version\":1,\"input\":{\"shape\":[6]},\"layers\":[{\"type\":\"softmax\","
                                  "\"variant\":\"adaptive\",\"head_size\":9223372036854775807,\"clusters\":[3]}]}", &n), LOOM_ERR_INVALID_NETWORK);
    uint64_t saved = loom_memory_limit();
    CHECK(saved > 0, "a memory budget is in force");
    EXPECT(loom_set_memory_limit(0), LOOM_ERR_INVALID_ARGUMENT);
    CHECK(loom_memory_limit() == saved, "a refused limit changes nothing");
    EXPECT(loom_set_memory_limit(1 << 20), LOOM_OK);
    CHECK(loom_memory_limit() == 1 << 20, "the limit reads back");
    const char *wide = "{\"format\":\"loom\",\"version\":1,\"input\":{\"shape\":[1024]},\"layers\":[{\"type\":\"dense\",\"units\":1024}]}";
    EXPECT(loom_network_from_json(wide, &n), LOOM_ERR_INVALID_NETWORK);
    CHECK(strstr(loom_last_error(), "memory budget") != NULL, "budget message: %s", loom_last_error());
    EXPECT(loom_set_memory_limit(saved), LOOM_OK);
    EXPECT(loom_network_from_json(wide, &n), LOOM_OK);
    loom_network_free(n);
    /* A safetensors header that claims 2^63 - 1 bytes. */
    uint8_t lie[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '{', '}'};
    n = NULL;
    CHECK(loom_network_from_safetensors(lie, sizeof lie, &n) != LOOM_OK && n == NULL, "lying safetensors length");
}

int main(void) {
    CHECK(strlen(loom_version()) > 0, "version");
    loom_network *net = NULL;
    EXPECT(loom_network_from_json(XOR, &net), LOOM_OK);
    size_t in = 0, out = 0;
    EXPECT(loom_network_input_size(net, &in), LOOM_OK);
    EXPECT(loom_network_output_size(net, &out), LOOM_OK);
    CHECK(in == 2 && out == 2, "sizes %zu %zu", in, out);
    EXPECT(loom_network_set_threads(net, 2), LOOM_OK);

    /* Forward; the same bits on 1 thread and from 4 threads at once. */
    float y[8], y1[8];
    EXPECT(loom_network_forward(net, X, 4, y, 8), LOOM_OK);
    EXPECT(loom_network_set_threads(net, 1), LOOM_OK);
    EXPECT(loom_network_forward(net, X, 4, y1, 8), LOOM_OK);
    CHECK(memcmp(y, y1, sizeof y) == 0, "thread count changed the output");
    struct job jobs[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) { jobs[i].net = net; jobs[i].s = LOOM_OK; pthread_create(&th[i], NULL, run_forward, &jobs[i]); }
    for (int i = 0; i < 4; i++) { pthread_join(th[i], NULL); CHECK(jobs[i].s == LOOM_OK && memcmp(jobs[i].y, y, sizeof y) == 0, "concurrent forward %d", i); }

    /* Info and hash. */
    size_t needed = 0;
    char small[8];
    EXPECT(loom_network_info_json(net, small, sizeof small, &needed), LOOM_ERR_BUFFER_TOO_SMALL);
    CHECK(needed > sizeof small, "needed %zu", needed);
    char *info = malloc(needed);
    EXPECT(loom_network_info_json(net, info, needed, &needed), LOOM_OK);
    CHECK(strstr(info, "\"dense\"") != NULL, "info: %s", info);
    free(info);
    uint64_t h0 = 0, h1 = 0;
    EXPECT(loom_network_weights_hash(net, &h0), LOOM_OK);

    /* Training: XOR in 150 steps; the weights change and the loss falls. */
    loom_trainer *tr = NULL;
    EXPECT(loom_trainer_new(net, &tr), LOOM_OK);
    float first = 0, loss = 0;
    EXPECT(loom_trainer_step(tr, X, 4, T, 4, &first), LOOM_OK);
    for (int i = 0; i < 150; i++) loom_trainer_step(tr, X, 4, T, 4, &loss);
    CHECK(loss < first * 0.2f, "loss %g → %g", first, loss);
    EXPECT(loom_network_weights_hash(net, &h1), LOOM_OK);
    CHECK(h0 != h1, "weights did not change");

    /* Save and load (JSON and safetensors): the same output bits. */
    float y2[8], y3[8];
    EXPECT(loom_network_forward(net, X, 4, y, 8), LOOM_OK);
    EXPECT(loom_network_save(net, "/tmp/loom-c-test.json"), LOOM_OK);
    EXPECT(loom_network_save_safetensors(net, "/tmp/loom-c-test.safetensors", NULL), LOOM_OK);
    loom_network *a = NULL, *b = NULL;
    EXPECT(loom_network_load("/tmp/loom-c-test.json", &a), LOOM_OK);
    EXPECT(loom_network_load("/tmp/loom-c-test.safetensors", &b), LOOM_OK);
    EXPECT(loom_network_forward(a, X, 4, y2, 8), LOOM_OK);
    EXPECT(loom_network_forward(b, X, 4, y3, 8), LOOM_OK);
    CHECK(memcmp(y, y2, sizeof y) == 0 && memcmp(y, y3, sizeof y) == 0, "reloaded outputs differ");
    EXPECT(loom_network_save_safetensors(net, "/tmp/loom-c-test-i8.safetensors", "i8"), LOOM_OK);
    EXPECT(loom_network_save_safetensors(net, "/tmp/loom-c-test-x.safetensors", "int3"), LOOM_ERR_INVALID_ARGUMENT);
    loom_network_free(a);
    loom_network_free(b);

    /* Reference hashes (the golden lines). */
    EXPECT(loom_reference_hashes(NULL, 0, &needed), LOOM_ERR_BUFFER_TOO_SMALL);
    char *hashes = malloc(needed);
    EXPECT(loom_reference_hashes(hashes, needed, &needed), LOOM_OK);
    CHECK(strncmp(hashes, "dense_linear.f32.forward a443a459d4b8b96f\n", 42) == 0, "first golden line: %.60s", hashes);
    free(hashes);

    /* Errors: NULL and freed handles, bad JSON and UTF-8, short buffers, bad arguments. */
    EXPECT(loom_network_forward(NULL, X, 4, y, 8), LOOM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(loom_last_error(), "NULL") != NULL, "NULL message");
    EXPECT(loom_network_forward(net, X, 4, y, 7), LOOM_ERR_BUFFER_TOO_SMALL);
    EXPECT(loom_network_forward(net, NULL, 4, y, 8), LOOM_ERR_INVALID_ARGUMENT);
    EXPECT(loom_network_forward(net, X, 0, y, 8), LOOM_ERR_INVALID_ARGUMENT);
    EXPECT(loom_network_set_threads(net, 0), LOOM_ERR_INVALID_ARGUMENT);
    EXPECT(loom_trainer_step(tr, X, 4, T, 3, &loss), LOOM_ERR_SHAPE_MISMATCH);
    loom_network *bad = NULL;
    EXPECT(loom_network_from_json("{\"format\": ", &bad), LOOM_ERR_INVALID_JSON);
    EXPECT(loom_network_from_json("\xff\xfe", &bad), LOOM_ERR_INVALID_ARGUMENT);
    EXPECT(loom_network_from_json(NULL, &bad), LOOM_ERR_INVALID_ARGUMENT);
    EXPECT(loom_network_from_json("{\"format\": \"loom\", \"version\": 1, \"input\": {\"shape\": [2]}, \"layers\": [{\"type\": \"nope\"}]}", &bad), LOOM_ERR_INVALID_NETWORK);
    CHECK(bad == NULL, "no handle on failure");
    EXPECT(loom_network_load("/nonexistent/model.json", &bad), LOOM_ERR_IO);
    loom_network *plain = NULL;
    EXPECT(loom_network_from_json("{\"format\": \"loom\", \"version\": 1, \"input\": {\"shape\": [2]}, \"layers\": [{\"type\": \"dense\", \"units\": 1}]}", &plain), LOOM_OK);
    loom_trainer *none = NULL;
    EXPECT(loom_trainer_new(plain, &none), LOOM_ERR_INVALID_NETWORK);
    loom_network_free(plain);
    EXPECT(loom_network_forward(plain, X, 4, y, 8), LOOM_ERR_INVALID_ARGUMENT);  /* freed */
    CHECK(strstr(loom_last_error(), "not a live") != NULL, "freed message: %s", loom_last_error());
    loom_network_free(plain);  /* double free: reported, not a crash */
    loom_network_free(NULL);

    /* Errors from several threads at once: each thread sees its own message. */
    struct err_job ej[3] = {{0, 0}, {1, 0}, {2, 0}};
    pthread_t et[3];
    for (int i = 0; i < 3; i++) pthread_create(&et[i], NULL, make_error, &ej[i]);
    for (int i = 0; i < 3; i++) { pthread_join(et[i], NULL); CHECK(ej[i].ok, "per-thread error message, kind %d", i); }

    test_memory_formats(net);
    test_backward();
    test_tokenizer();
    test_reference_cases();
    test_step();
    test_hostile();
    const char *gguf = getenv("LOOM_TEST_GGUF");
    if (gguf && *gguf) test_generator(gguf);
    else { checks++; failures++; fprintf(stderr, "FAIL: LOOM_TEST_GGUF is not set (scripts/test-c sets it)\n"); }

    loom_trainer_free(tr);
    EXPECT(loom_trainer_step(tr, X, 4, T, 4, &loss), LOOM_ERR_INVALID_ARGUMENT);
    loom_trainer_free(tr);  /* double free reported */
    CHECK(strstr(loom_last_error(), "freed twice") != NULL, "double free message: %s", loom_last_error());
    loom_network_free(net);
    remove("/tmp/loom-c-test.json"); remove("/tmp/loom-c-test.safetensors"); remove("/tmp/loom-c-test-i8.safetensors");
    printf("C ABI: %d checks, %d failures\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
