/* loom.h — the C ABI of Loom for Swift (libloom). docs/c-abi.md.
 *
 * Conventions
 * - Every function that can fail returns a loom_status (LOOM_OK = 0); on failure the message is
 *   available from loom_last_error() on the same thread until that thread's next failing call.
 * - Objects are opaque handles created by *_new / *_load / *_from_json and released by *_free
 *   (NULL is accepted and ignored). There is no global state besides the per-thread error.
 * - Results go into caller-provided buffers with their capacity; *_needed / *count outputs say
 *   how much was (or would have been) written. Text results are UTF-8, NUL-terminated.
 * - Thread safety: a network may run loom_network_forward from several threads at once (it is a
 *   pure function of the weights); anything that changes a network (loading weights, a trainer
 *   step on it, loom_network_set_threads) must not run concurrently with any other call on the
 *   same network. Different handles are independent.
 */
#ifndef LOOM_H
#define LOOM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum loom_status {
    LOOM_OK = 0,
    LOOM_ERR_INVALID_ARGUMENT = 1, /* NULL or freed handle, bad buffer size, bad option */
    LOOM_ERR_INVALID_JSON = 2,
    LOOM_ERR_INVALID_NETWORK = 3,
    LOOM_ERR_INVALID_MODEL = 4,
    LOOM_ERR_SHAPE_MISMATCH = 5,
    LOOM_ERR_INVALID_INPUT = 6,
    LOOM_ERR_NON_FINITE = 7,
    LOOM_ERR_IO = 8,
    LOOM_ERR_UNSUPPORTED_VERSION = 9,
    LOOM_ERR_BUFFER_TOO_SMALL = 10
} loom_status;

typedef struct loom_network loom_network;
typedef struct loom_trainer loom_trainer;

/* The library version ("major.minor.patch"); static storage. */
const char *loom_version(void);
/* The last error message of the calling thread ("" when none); valid until its next failing call. */
const char *loom_last_error(void);

/* Networks: from IR or saved-model JSON text, from a file (JSON model or .safetensors). */
loom_status loom_network_from_json(const char *json, loom_network **out);
loom_status loom_network_load(const char *path, loom_network **out);
loom_status loom_network_save(const loom_network *net, const char *path);
/* dtype: NULL for the network's own type, else any of the 13 names ("f32", "i8", …). */
loom_status loom_network_save_safetensors(const loom_network *net, const char *path, const char *dtype);
void loom_network_free(loom_network *net);

/* Sizes of one sample: elements of the input and of the output. */
loom_status loom_network_input_size(const loom_network *net, size_t *out);
loom_status loom_network_output_size(const loom_network *net, size_t *out);
/* Threads for this network's computations (1…1024; results never depend on it). */
loom_status loom_network_set_threads(loom_network *net, int threads);

/* y = net(x) for `batch` samples: x holds batch·input_size floats, y receives batch·output_size
 * (y_capacity is its length in floats; LOOM_ERR_BUFFER_TOO_SMALL when short). */
loom_status loom_network_forward(const loom_network *net, const float *x, size_t batch,
                                 float *y, size_t y_capacity);

/* The blueprint (layers, shapes, parameters) as JSON into buf; *needed = bytes including NUL. */
loom_status loom_network_info_json(const loom_network *net, char *buf, size_t capacity, size_t *needed);
/* FNV-1a 64 of every parameter (names, shapes, bits), as in the golden hash file. */
loom_status loom_network_weights_hash(const loom_network *net, uint64_t *out);

/* Training with the IR's training block (loss, optimizer, scheduler, clipping). */
loom_status loom_trainer_new(loom_network *net, loom_trainer **out);
/* One optimizer step on a batch; targets hold target_count floats (class ids for cross-entropy,
 * or batch·output_size values). *loss receives the batch loss (may be NULL). */
loom_status loom_trainer_step(loom_trainer *tr, const float *x, size_t batch, const float *targets,
                              size_t target_count, float *loss);
void loom_trainer_free(loom_trainer *tr);

/* The golden reference hashes (`name hash` lines, as `loom verify`) into buf. */
loom_status loom_reference_hashes(char *buf, size_t capacity, size_t *needed);

#ifdef __cplusplus
}
#endif
#endif
