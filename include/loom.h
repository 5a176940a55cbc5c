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
    LOOM_ERR_BUFFER_TOO_SMALL = 10,
    LOOM_ERR_DEVICE = 11          /* a GPU is missing, unusable or failed (the message says what to do) */
} loom_status;

typedef struct loom_network loom_network;
typedef struct loom_trainer loom_trainer;
typedef struct loom_tokenizer loom_tokenizer;
typedef struct loom_generator loom_generator;
typedef struct loom_step loom_step;
typedef struct loom_tween loom_tween;

/* Thread-safety legend for each function below:
 *   [any]     may run concurrently with anything (including on the same handle);
 *   [reader]  may run concurrently with other [reader] calls on the same handle;
 *   [writer]  changes the handle: must not overlap any other call on the same handle (or, for a
 *             trainer, on its network).
 * Calls on different handles are always independent. The wasm module (bindings/js) exports the
 * same functions except those marked [native] (files, threads, generators). */

/* The library version ("major.minor.patch"); static storage. [any] */
const char *loom_version(void);
/* The last error message of the calling thread ("" when none); valid until its next failing call. [any] */
const char *loom_last_error(void);

/* The memory budget in bytes: a network, model file, batch or KV cache that would make Loom hold
 * more is refused (LOOM_ERR_INVALID_* with a message) before anything is allocated. Default: 16 GiB
 * (2 GiB - 1 in the wasm module). Process-wide: set it before creating handles; 0 is an invalid
 * argument. [writer] */
loom_status loom_set_memory_limit(uint64_t bytes);
/* The memory budget now in force. [any] */
uint64_t loom_memory_limit(void);

/* ---- Networks ---------------------------------------------------------------------------- */

/* From IR or saved-model JSON text (UTF-8, NUL-terminated). [any] */
loom_status loom_network_from_json(const char *json, loom_network **out);
/* From the bytes of a .safetensors file written by Loom (the IR is in its metadata). [any] */
loom_status loom_network_from_safetensors(const uint8_t *bytes, size_t count, loom_network **out);
/* From a file: a JSON model/IR, or a .safetensors file. [any] [native] */
loom_status loom_network_load(const char *path, loom_network **out);
/* The saved model (IR, weights bit-exactly, optimizer state) as JSON text into buf; *needed =
 * bytes including the NUL. [reader] */
loom_status loom_network_to_json(const loom_network *net, char *buf, size_t capacity, size_t *needed);
/* The weights as .safetensors bytes; dtype NULL for the network's own type, else any of the 13
 * names ("f32", "i8", …). *needed = bytes. [reader] */
loom_status loom_network_to_safetensors(const loom_network *net, const char *dtype, uint8_t *buf, size_t capacity,
                                        size_t *needed);
/* Atomic writes (a failure never leaves a partial file over a good one). [reader] [native] */
loom_status loom_network_save(const loom_network *net, const char *path);
loom_status loom_network_save_safetensors(const loom_network *net, const char *path, const char *dtype);
/* Releases a network (NULL is ignored; a freed handle is reported in loom_last_error). Free its
 * trainers, step states and tween states first (they hold the network: still memory-safe, but
 * their weights can no longer be read or saved). [writer] */
void loom_network_free(loom_network *net);

/* Sizes of one sample: elements of the input and of the output. [reader] */
loom_status loom_network_input_size(const loom_network *net, size_t *out);
loom_status loom_network_output_size(const loom_network *net, size_t *out);
/* The shape of one output sample: dims (capacity entries) and *rank. [reader] */
loom_status loom_network_output_shape(const loom_network *net, size_t *dims, size_t capacity, size_t *rank);
/* Scalar parameters in all (the length of loom_network_backward's gradient vector). [reader] */
loom_status loom_network_parameter_count(const loom_network *net, size_t *out);
/* Threads for this network's computations (1…1024; results never depend on it; the wasm module
 * accepts it and runs serially). [writer] */
loom_status loom_network_set_threads(loom_network *net, int threads);

/* y = net(x) for `batch` samples: x holds batch·input_size values, y receives batch·output_size
 * (y_capacity is its length in values; LOOM_ERR_BUFFER_TOO_SMALL when short). The _f64 form
 * passes doubles (exact for f64 networks; a float network rounds them to float once). [reader] */
loom_status loom_network_forward(const loom_network *net, const float *x, size_t batch,
                                 float *y, size_t y_capacity);
loom_status loom_network_forward_f64(const loom_network *net, const double *x, size_t batch,
                                     double *y, size_t y_capacity);

/* Backward: forward in training mode (dropout off), then dy (batch·output_size) → dx
 * (batch·input_size) and the gradient of every parameter, flattened in parameter order
 * (loom_network_parameter_count values). dx or grads may be NULL with capacity 0. [writer: uses
 * the network's gradient buffers] */
loom_status loom_network_backward(loom_network *net, const float *x, size_t batch, const float *dy,
                                  float *dx, size_t dx_capacity, float *grads, size_t grads_capacity);
loom_status loom_network_backward_f64(loom_network *net, const double *x, size_t batch, const double *dy,
                                      double *dx, size_t dx_capacity, double *grads, size_t grads_capacity);

/* The blueprint (layers, shapes, parameters) as JSON into buf; *needed = bytes including NUL. [reader] */
loom_status loom_network_info_json(const loom_network *net, char *buf, size_t capacity, size_t *needed);
/* FNV-1a 64 of every parameter (names, shapes, bits), as in the golden hash file. [reader] */
loom_status loom_network_weights_hash(const loom_network *net, uint64_t *out);

/* ---- Training ---------------------------------------------------------------------------- */

/* A trainer with the network's IR training block (loss, optimizer, scheduler, clipping). [writer] */
loom_status loom_trainer_new(loom_network *net, loom_trainer **out);
/* A trainer with the given training block, e.g. {"loss":"mse","optimizer":{"type":"sgd","lr":0.1,
 * "momentum":0.9},"scheduler":{"type":"cosine","total_steps":100}} (any optimizer and scheduler
 * of the IR; docs/ir.md). [writer] */
loom_status loom_trainer_new_with(loom_network *net, const char *training_json, loom_trainer **out);
/* One optimizer step on a batch; targets hold target_count values (one class id per row for
 * cross-entropy, or batch·output_size values). *loss receives the batch loss (may be NULL).
 * [writer, on the trainer and its network] */
loom_status loom_trainer_step(loom_trainer *tr, const float *x, size_t batch, const float *targets,
                              size_t target_count, float *loss);
loom_status loom_trainer_step_f64(loom_trainer *tr, const double *x, size_t batch, const double *targets,
                                  size_t target_count, double *loss);
/* Steps taken so far and the learning rate of the next step (either pointer may be NULL). [reader] */
loom_status loom_trainer_progress(const loom_trainer *tr, size_t *steps, double *lr);
/* Releases a trainer (NULL is ignored). [writer] */
void loom_trainer_free(loom_trainer *tr);

/* ---- Step execution (docs/step.md) ------------------------------------------------------ */

/* A pipeline over the network's top-level layers: every tick, each layer advances once from its
 * input buffer, so a sample leaves latency (= layer count) ticks after it entered. options_json
 * NULL for inference only, else {"learner": "none" | "backprop" | "tween", "training": {an IR
 * training block; backprop, default the network's}, "update_every": n (backprop: one optimizer
 * update per n completed samples, default 1), "tween": {a tween config; docs/tweening.md},
 * "stash_limit": n (samples whose activations are kept, default 1024), "concurrent": bool (one
 * task per stage; the same bits either way), "weight_stashing": bool (a learner's backward uses,
 * per stage, the weights that stage read for the sample: exact gradients under per-tick updates)}. Results never depend on threads. [writer, on the
 * network] */
loom_status loom_step_new(loom_network *net, const char *options_json, loom_step **out);
/* Ticks from a sample's entry to its output. [reader] */
loom_status loom_step_latency(const loom_step *st, size_t *out);
/* One tick. x: one sample (input_size values) entering under the next tag (0, 1, 2, … in feeding
 * order), or NULL for a tick that feeds nothing (to drain the pipeline). target: with a learner,
 * x's target (target_count values: one class id, or output_size values); NULL and 0 otherwise.
 * When a sample leaves the last stage this tick, *done = 1, *tag = its tag, y (y_capacity >=
 * output_size, checked before ticking) = its output, *loss = its loss (backprop: the sample's
 * loss; tween: the sum of squared errors; none: NaN), and its learner has learned from it (on the
 * activations that very sample left in each layer); else *done = 0. done, tag and loss may be
 * NULL. [writer, on the step state and its network] */
loom_status loom_step_tick(loom_step *st, const float *x, const float *target, size_t target_count,
                           int *done, uint64_t *tag, float *y, size_t y_capacity, double *loss);
loom_status loom_step_tick_f64(loom_step *st, const double *x, const double *target, size_t target_count,
                               int *done, uint64_t *tag, double *y, size_t y_capacity, double *loss);
/* Ticks so far, samples fed, and learning updates applied (optimizer updates or tween steps);
 * any pointer may be NULL. [reader] */
loom_status loom_step_progress(const loom_step *st, uint64_t *ticks, uint64_t *fed, uint64_t *updates);
/* The report of the sample that last left the pipeline as JSON ({"tag"}, with "loss" for
 * backprop, and the tween report's fields for tween; null before the first). [reader] */
loom_status loom_step_report_json(const loom_step *st, char *buf, size_t capacity, size_t *needed);
/* Releases a step state (NULL is ignored). [writer] */
void loom_step_free(loom_step *st);

/* ---- Neural Tweening (docs/tweening.md) ------------------------------------------------- */

/* A tween state on the network; config_json NULL for the defaults, else {"mode": "chain_rule" |
 * "gap_closing", "rate", "momentum", "ignore_threshold", "link_budget_scale", "depth_barrier",
 * "depth_scale_factor", "signal_clip", "update_clip", "gradient_scale", "type_rates": {type:
 * factor}, "explosion_detection", "pruning", "prune_threshold", "prune_patience"}; a field that is
 * unknown, mistyped or out of range is LOOM_ERR_INVALID_ARGUMENT naming it. [writer, on the
 * network] */
loom_status loom_tween_new(loom_network *net, const char *config_json, loom_tween **out);
/* One tween step on a batch; targets as loom_trainer_step (class ids or output values). *loss
 * (may be NULL) = the sum of squared output errors before the step. [writer, on the tween state
 * and its network] */
loom_status loom_tween_step(loom_tween *tw, const float *x, size_t batch, const float *targets,
                            size_t target_count, double *loss);
loom_status loom_tween_step_f64(loom_tween *tw, const double *x, size_t batch, const double *targets,
                                size_t target_count, double *loss);
/* The last step's report as JSON: {"loss", "link_budgets", "gaps", "depth_barrier", "updated",
 * "adaptive_rate", "pruned"}, per-stage arrays from input to output (null before the first).
 * [reader] */
loom_status loom_tween_report_json(const loom_tween *tw, char *buf, size_t capacity, size_t *needed);
/* Releases a tween state (NULL is ignored). [writer] */
void loom_tween_free(loom_tween *tw);

/* ---- Tokenizers -------------------------------------------------------------------------- */

/* From the text of a Hugging Face tokenizer.json. [any] */
loom_status loom_tokenizer_from_json(const char *json, loom_tokenizer **out);
/* From a file: tokenizer.json, or a .gguf model's vocabulary. [any] [native] */
loom_status loom_tokenizer_load(const char *path, loom_tokenizer **out);
/* The vocabulary size (ids 0 ..< size). [reader] */
loom_status loom_tokenizer_vocab_size(const loom_tokenizer *tok, size_t *out);
/* The ids of `length` bytes of UTF-8 text into ids; *count = how many. add_special != 0 adds the
 * post-processor's special tokens. [reader] */
loom_status loom_tokenizer_encode(const loom_tokenizer *tok, const char *text, size_t length, int add_special,
                                  int32_t *ids, size_t capacity, size_t *count);
/* The text of `count` ids (UTF-8 + NUL) into buf; skip_special != 0 drops special tokens. [reader] */
loom_status loom_tokenizer_decode(const loom_tokenizer *tok, const int32_t *ids, size_t count, int skip_special,
                                  char *buf, size_t capacity, size_t *needed);
/* Releases a tokenizer (NULL is ignored). [writer] */
void loom_tokenizer_free(loom_tokenizer *tok);

/* ---- Generators (GGUF causal language models) [native] -------------------------------- */

/* Called with each piece of generated text (UTF-8, whole characters) as it is generated. */
typedef void (*loom_text_callback)(void *user, const char *piece);
/* A Llama-family GGUF model (e.g. SmolLM2). blocks != 0 keeps the quantized blocks in the mapped
 * file (integer dot products); 0 dequantizes every tensor to f32. [any] */
loom_status loom_generator_load(const char *gguf_path, int blocks, loom_generator **out);
/* Host threads for generation (at least 1). [writer] */
loom_status loom_generator_set_threads(loom_generator *gen, int threads);
/* Up to max_tokens after the prompt (chat != 0: as a user message in the model's chat template);
 * sampler_json NULL for greedy, else {"temperature", "top_k", "top_p", "min_p",
 * "repetition_penalty", "seed"}. The generated text into buf; on_text (may be NULL) streams it.
 * When buf is too small, loom_generator_last_text returns the text without generating again.
 * [writer] */
loom_status loom_generator_generate(loom_generator *gen, const char *prompt, int chat, size_t max_tokens,
                                    const char *sampler_json, loom_text_callback on_text, void *user,
                                    char *buf, size_t capacity, size_t *needed);
/* The text of the last loom_generator_generate call into buf; *needed = bytes including the NUL. [reader] */
loom_status loom_generator_last_text(const loom_generator *gen, char *buf, size_t capacity, size_t *needed);
/* A new tokenizer handle with the model's vocabulary (free it with loom_tokenizer_free). [any] */
loom_status loom_generator_tokenizer(const loom_generator *gen, loom_tokenizer **out);
/* Releases a generator (NULL is ignored). [writer] */
void loom_generator_free(loom_generator *gen);

/* ---- Verification ------------------------------------------------------------------------ */

/* The golden reference hashes (`name hash` lines, as `loom verify` prints them) into buf. [any] */
loom_status loom_reference_hashes(char *buf, size_t capacity, size_t *needed);
/* The golden reference cases, one by one, so a binding can reproduce every line itself: the
 * count, a case's name ("dense_relu.f32"), its IR JSON (with the training block), and its data as
 * doubles (exact values of the network's compute type): which = 0 the forward input (8 samples),
 * 1 the training inputs (32 samples), 2 the training targets. A case's lines are
 * `<name>.forward <FNV-1a 64 of the forward output: rank+1, 8, dims…, each value's bits>` and
 * `<name>.train20 <loom_network_weights_hash after 20 trainer steps>`, step s on samples
 * (s mod 4)·8 ..< +8 (docs/c-abi.md). [any] */
loom_status loom_reference_count(size_t *out);
loom_status loom_reference_name(size_t index, char *buf, size_t capacity, size_t *needed);
loom_status loom_reference_ir(size_t index, char *buf, size_t capacity, size_t *needed);
loom_status loom_reference_data(size_t index, int which, double *buf, size_t capacity, size_t *needed);

#ifdef __cplusplus
}
#endif
#endif
