"""Step execution and Neural Tweening through the binding (tests/c/test_loom.c's test_step):
bit-exact against their whole-pass twins, and every error with its status."""
import ctypes
import json
import math

import numpy as np
import pytest

import loom

# A 3-layer network (latency 3) without a training block.
MLP3 = json.dumps({"format": "loom", "version": 1, "seed": 11, "input": {"shape": [2]},
                   "layers": [{"type": "dense", "units": 6, "activation": "tanh"},
                              {"type": "dense", "units": 5, "activation": "relu"},
                              {"type": "dense", "units": 2}]})
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1], [0.25, -0.5], [-1.5, 0.75]], dtype=np.float32)
T = np.array([0, 1, 1, 0, 1, 0], dtype=np.float32)
SGD_CE = {"loss": "cross_entropy", "optimizer": loom.sgd(0.1)}


def bits(a) -> bytes:
    return np.ascontiguousarray(a).tobytes()


def feed_and_drain(st: loom.StepState, x, target):
    """Feeds one sample and ticks until it leaves; returns (its result, ticks taken)."""
    r = st.tick(x, target)
    ticks = 1
    while r is None and ticks < 10:
        r = st.tick()
        ticks += 1
    return r, ticks


@pytest.mark.parametrize("concurrent", [False, True])
def test_inference_pipeline_gives_forward_bits_in_feeding_order(concurrent):
    net = loom.Network.from_json(MLP3)
    ref = net.forward(X)
    st = loom.StepState(net, concurrent=concurrent)
    assert st.latency == 3
    assert st.report() is None
    results, done_at = [], []
    for k in range(len(X) + 3):
        r = st.tick(X[k] if k < len(X) else None)
        if r is not None:
            results.append(r)
            done_at.append(k)
    # Sample k enters at tick k and leaves at tick k + latency - 1.
    assert done_at == [k + 2 for k in range(len(X))]
    assert [r.tag for r in results] == list(range(len(X)))
    for r in results:
        assert r.output.dtype == np.float32 and r.output.shape == (2,)
        assert bits(r.output) == bits(ref[r.tag])
        assert math.isnan(r.loss)
    assert st.progress() == (len(X) + 3, len(X), 0)
    assert st.report() == {"tag": len(X) - 1}


def test_flush_and_the_f64_tick():
    net = loom.Network.from_json(MLP3)
    ref = net.forward(X)
    with net.step_state() as st:
        got = [st.tick(x) for x in X]
        assert got[:2] == [None, None] and [r.tag for r in got[2:]] == list(range(len(X) - 2))
        rest = st.flush()
        assert [r.tag for r in rest] == [len(X) - 2, len(X) - 1]
        assert [bits(r.output) for r in got[2:] + rest] == [bits(row) for row in ref]
        assert st.flush() == []
        assert st.progress()[:2] == (len(X) + 2, len(X))
    # float64 samples on a float network: rounded once, the same bits as the float forward.
    st = loom.StepState(net, learner="none", stash_limit=4)
    assert st.tick(X[1].astype(np.float64)) is None
    assert st.tick() is None
    r = st.tick()
    assert r is not None and r.tag == 0 and r.output.dtype == np.float64
    assert bits(r.output.astype(np.float32)) == bits(ref[1])


def test_step_backprop_equals_trainer_on_batches_of_one():
    a, b = loom.Network.from_json(MLP3), loom.Network.from_json(MLP3)
    start = a.weights_hash()
    st = loom.StepState(a, "backprop", **SGD_CE)
    tr = loom.Trainer(b, **SGD_CE)
    for _ in range(3):
        for i in range(4):
            r, ticks = feed_and_drain(st, X[i], T[i])
            lb = tr.step(X[i:i + 1], T[i:i + 1])
            assert ticks == 3 and r.tag == st.progress()[1] - 1
            assert r.loss == lb, (r.loss, lb)
            assert st.report() == {"tag": r.tag, "loss": r.loss}
    assert a.weights_hash() == b.weights_hash() != start
    assert st.progress() == (36, 12, 12)
    # The training block as a dict gives the same weights.
    c = loom.Network.from_json(MLP3)
    st2 = c.step_state("backprop", training=SGD_CE)
    for _ in range(3):
        for i in range(4):
            feed_and_drain(st2, X[i], T[i])
    assert c.weights_hash() == a.weights_hash()


@pytest.mark.parametrize("mode", ["gap_closing", "chain_rule"])
def test_step_tween_equals_whole_pass_tween(mode):
    cfg = {"mode": mode, "rate": 0.05}
    a, b = loom.Network.from_json(MLP3), loom.Network.from_json(MLP3)
    start = a.weights_hash()
    st = loom.StepState(a, "tween", tween=cfg)
    tw = loom.Tween(b, cfg)
    assert tw.report() is None
    for i in range(len(X)):
        r, ticks = feed_and_drain(st, X[i], T[i])
        lb = tw.step(X[i:i + 1], T[i:i + 1])
        assert ticks == 3 and r.tag == i
        assert r.loss == lb, (r.loss, lb)
    assert a.weights_hash() == b.weights_hash() != start
    assert st.progress() == (3 * len(X), len(X), len(X))
    # Reports: per-stage lists, one entry per layer.
    rep = tw.report()
    assert set(rep) == {"loss", "link_budgets", "gaps", "depth_barrier", "updated", "adaptive_rate", "pruned"}
    assert len(rep["link_budgets"]) == len(rep["gaps"]) == len(rep["updated"]) == 3 == len(b.info()["layers"])
    assert all(0 <= x <= 1 for x in rep["link_budgets"])
    assert rep["loss"] == lb
    srep = st.report()
    assert srep["tag"] == len(X) - 1 and len(srep["gaps"]) == 3 and len(srep["link_budgets"]) == 3
    assert {k: v for k, v in srep.items() if k != "tag"} == rep


def test_tween_keywords_values_targets_and_f64():
    a, b = loom.Network.from_json(MLP3), loom.Network.from_json(MLP3)
    ta, tb = loom.Tween(a, mode="gap_closing", rate=0.05), b.tween({"mode": "gap_closing"}, rate=0.05)
    assert ta.step(X, T) == tb.step(X, T)
    assert a.weights_hash() == b.weights_hash()
    # Values as targets (output_size values per sample), in float64.
    loss = ta.step(np.array([[0.5, -0.25]]), np.array([[1.0, 0.0]]))
    assert isinstance(loss, float) and loss > 0 and ta.report()["loss"] == loss
    # Defaults (chain rule) learn: the loss falls over repeated steps on one batch.
    c = loom.Network.from_json(MLP3)
    with loom.Tween(c, rate=0.05) as tc:
        losses = [tc.step(X, T) for _ in range(50)]
    assert losses[-1] < losses[0]


def status_of(fn) -> int:
    with pytest.raises(loom.LoomError) as e:
        fn()
    return e.value.status


def test_step_errors():
    net = loom.Network.from_json(MLP3)
    # Learner targets: missing, given without a learner, a bad class id, the wrong count.
    bp = loom.StepState(net, "backprop", **SGD_CE)
    with pytest.raises(loom.LoomError) as e:
        bp.tick(X[0])
    assert e.value.status == 1 and "target" in e.value.message
    assert status_of(lambda: bp.tick(X[0], 1.5)) == 6
    assert status_of(lambda: bp.tick(X[0], [1, 0, 1])) == 5
    assert status_of(lambda: bp.tick(None, 1)) == 1  # a tick without an input takes no target
    assert status_of(lambda: bp.tick(X[0, :1], 1)) == 5  # not one sample
    assert bp.progress() == (0, 0, 0)  # failed ticks changed nothing
    st = loom.StepState(net)
    assert status_of(lambda: st.tick(X[0], 1)) == 1
    # A tick on a pipeline that was never fed.
    with pytest.raises(loom.LoomError) as e:
        st.tick()
    assert e.value.status == 1 and "never been given an input" in e.value.message
    # Options: unknown learner, a learner's field without the learner, bad numbers, no training
    # block, pruning on the pipeline, a bad tween mode.
    assert status_of(lambda: loom.StepState(net, "magic")) == 1
    assert status_of(lambda: loom.StepState(net, update_every=2)) == 1
    assert status_of(lambda: loom.StepState(net, stash_limit=0)) == 1
    assert status_of(lambda: loom.StepState(net, "backprop")) == 1  # MLP3 has no training block
    assert status_of(lambda: loom.StepState(net, "tween", tween={"pruning": True})) == 1
    assert status_of(lambda: loom.StepState(net, "tween", tween={"mode": "sideways"})) == 1
    assert status_of(lambda: loom.StepState(net, "backprop", loss="cross_entropy", optimizer={"type": "nope"})) == 3
    with pytest.raises(TypeError):
        loom.StepState(net, latency=2)
    h = ctypes.c_void_p()
    assert loom._step_new(net._handle(), b'{"latency": 2}', ctypes.byref(h)) == 1 and h.value is None
    assert "options_json.latency" in loom._last_error().decode()
    assert loom._step_new(net._handle(), b"{", ctypes.byref(h)) == 2
    # A short output buffer is refused before ticking (nothing is lost).
    st.tick(X[0])
    y = np.empty(1, dtype=np.float32)
    done = ctypes.c_int(0)
    assert loom._step_tick(st._handle(), X[1].ctypes.data_as(loom._F), None, 0, ctypes.byref(done), None,
                           y.ctypes.data_as(loom._F), 1, None) == 10
    assert st.progress() == (1, 1, 0)
    # Wrong-kind, closed, freed and double-freed handles.
    assert loom._step_latency(net._handle(), ctypes.byref(ctypes.c_size_t())) == 1
    raw = ctypes.c_void_p(st._handle().value)
    st.close()
    st.close()  # idempotent
    assert status_of(lambda: st.tick(X[0])) == 1
    assert status_of(lambda: st.progress()) == 1
    assert loom._step_latency(raw, ctypes.byref(ctypes.c_size_t())) == 1
    loom._step_free(raw)  # double free: reported, not a crash
    assert "freed twice" in loom._last_error().decode()


def test_tween_errors():
    net = loom.Network.from_json(MLP3)
    assert status_of(lambda: loom.Tween(net, mode="sideways")) == 1
    assert status_of(lambda: loom.Tween(net, rate=-1)) == 1
    with pytest.raises(loom.LoomError) as e:
        loom.Tween(net, {"rates": 1})
    assert e.value.status == 1 and "config_json.rates" in e.value.message
    tw = loom.Tween(net, mode="gap_closing")
    assert status_of(lambda: tw.step(X[:1], [1, 0, 1])) == 5
    assert status_of(lambda: tw.step(X[:1], [5])) == 6  # class id out of range, as for a trainer
    assert status_of(lambda: tw.step(X[:1, :1], [1])) == 5  # not a whole sample
    st = loom.StepState(net)
    assert loom._tw_step(st._handle(), X.ctypes.data_as(loom._F), 1, T.ctypes.data_as(loom._F), 1, None) == 1
    tw.close()
    assert status_of(lambda: tw.step(X[:1], [1])) == 1
    assert status_of(lambda: tw.report()) == 1


def test_weight_stashing_changes_streaming_and_repeats():
    """A sample every tick with updates in flight: weight stashing gives other weights than the
    stale backward, and the same bits on every run."""
    def run(stashing):
        net = loom.Network.from_json(MLP3)
        with loom.StepState(net, "backprop", loss="cross_entropy", optimizer=loom.sgd(0.1), weight_stashing=stashing) as st:
            for i in range(12):
                st.tick(X[i % len(X)], int(T[i % len(T)]))
        return net.weights_hash()
    assert run(True) == run(True) != run(False)
    with pytest.raises(loom.LoomError) as e:
        loom.StepState(loom.Network.from_json(MLP3), weight_stashing=True)
    assert e.value.status == 1 and "weight_stashing" in e.value.message
