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

    loom_trainer_free(tr);
    EXPECT(loom_trainer_step(tr, X, 4, T, 4, &loss), LOOM_ERR_INVALID_ARGUMENT);
    loom_network_free(net);
    remove("/tmp/loom-c-test.json"); remove("/tmp/loom-c-test.safetensors"); remove("/tmp/loom-c-test-i8.safetensors");
    printf("C ABI: %d checks, %d failures\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
