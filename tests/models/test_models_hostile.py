"""Tampered model files (issue 11): metadata trusted no more, members checked before loading, sizes that do not fit."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from models import MLP, CheckpointError, Spec, SpecError, load, save
from models.checkpoint import weights_digest

ROOT = Path(__file__).resolve().parents[2]


def arrays_of(path):
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def rewrite(path, arrays, **meta_changes):
    meta = json.loads(str(arrays["meta"]))
    for key, value in meta_changes.items():
        if key.startswith("spec_"):
            meta["spec"][key[5:]] = value
        else:
            meta[key] = value
    arrays["meta"] = np.array(json.dumps(meta))
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def refused(path, *words):
    with pytest.raises(CheckpointError) as info:
        load(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message, message
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"
    return message


@pytest.fixture
def saved(tmp_path, digit_model):
    return save(tmp_path / "model.npz", digit_model, {"config": {"lr": 0.1}, "metrics": {"dev_accuracy": 0.5}})


@pytest.mark.parametrize("change, words", [
    ({"spec_seed": "x"}, ("spec.seed", "not a whole number")),
    ({"spec_inputs": 784.0}, ("spec.inputs", "not a whole number")),
    ({"spec_seed": -1}, ("spec.seed", "outside 0..4294967295")),
    ({"spec_hidden": [16, -8]}, ("spec.hidden", "layer 2")),
    ({"spec_hidden": "16"}, ("spec.hidden", "not a list")),
    ({"spec_dropout": "0.5"}, ("spec.dropout", "not a number")),
    ({"spec_activation": ["relu"]}, ("spec.activation", "not one of")),
    ({"spec_classes": True}, ("spec.classes", "not a whole number")),
    ({"config": "x"}, ("config", "not an object")),
    ({"metrics": [1, 2]}, ("metrics", "not an object")),
    ({"data": 5}, ("data", "not a text")),
    ({"version": "1"}, ("version",)),
    ({"sha256": 12}, ("sha256", "not a SHA-256")),
    ({"spec": "784-16-10"}, ("spec", "not an object")),
])
def test_every_metadata_field_is_checked(saved, change, words):
    rewrite(saved, arrays_of(saved), **change)
    refused(saved, *words)


def test_a_model_with_an_extra_member_is_refused_before_loading_it(saved):
    arrays = arrays_of(saved)
    with zipfile.ZipFile(saved, "a", zipfile.ZIP_DEFLATED) as z:
        with z.open("junk.npy", "w", force_zip64=True) as f:  # 200 MiB of zeros, ~200 KB compressed
            np.lib.format.write_array_header_1_0(f, {"descr": "|u1", "fortran_order": False, "shape": (200 << 20,)})
            block = bytes(1 << 20)
            for _ in range(200):
                f.write(block)
    assert saved.stat().st_size < 2 << 20 and len(arrays) == 5
    tracemalloc.start()
    try:
        refused(saved, "has 5 weight arrays", "needs 4", "junk")
        used = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert used < 2 << 20, f"peak {used:,} bytes"


def test_a_weight_whose_header_lies_about_its_size(saved):
    arrays = arrays_of(saved)
    del arrays["p0"]
    with open(saved, "wb") as f:
        np.savez(f, **arrays)
    with zipfile.ZipFile(saved, "a") as z:
        with z.open("p0.npy", "w") as f:
            np.lib.format.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False, "shape": (784, 16)})
            f.write(bytes(64))
    refused(saved, "p0", "declares", "holds 64 bytes")


def test_huge_metadata_member_is_refused(saved):
    arrays = arrays_of(saved)
    arrays["meta"] = np.array("x" * (2 << 20))
    with open(saved, "wb") as f:
        np.savez(f, **arrays)
    refused(saved, "member 'meta'")


def test_a_model_for_other_inputs_is_refused_on_784_pixel_digits(tmp_path, digits):
    model = MLP(Spec(1024, (8,), 10))
    path = save(tmp_path / "wide.npz", model)
    loaded, _ = load(path)
    with pytest.raises(SpecError) as info:
        loaded.predict(digits)
    assert str(info.value) == ("the 1024-8-10 network takes 1024 inputs per digit, but was given 784 values per digit "
                               "(28x28 digits have 784)")


def test_weights_are_drawn_without_a_float64_copy_of_the_layer():
    spec = Spec(784, (2048,), 10, seed=3)
    tracemalloc.start()
    try:
        model = MLP(spec)
        used = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    weights = sum(p.nbytes for p in model.params) * 2  # the weights and their gradients
    assert used < weights + (4 << 20), f"peak {used:,} for {weights:,} bytes of float32"
    rng = np.random.default_rng(3)  # the same numbers as one float64 draw cast down
    expected = (rng.standard_normal((784, 2048)) * np.sqrt(2 / 784)).astype(np.float32)
    np.testing.assert_array_equal(model.params[0], expected)


def test_a_network_too_large_for_memory_is_one_line():
    """In a process limited to 1 GiB of address space, the largest allowed network is refused, not a MemoryError."""
    script = textwrap.dedent("""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        from models import MLP, Spec, SpecError
        try:
            MLP(Spec(784, (8192,) * 8, 10))
        except SpecError as e:
            print(e)
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "not enough memory" in done.stdout and done.stdout.count("\n") == 1, done.stdout


def test_spec_counts_its_parameters():
    spec = Spec(784, (512, 256), 10)
    assert spec.n_params() == MLP(spec).n_params() == 784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10


def test_sha_still_guards_the_weights(saved):
    arrays = arrays_of(saved)
    arrays["p1"] = arrays["p1"] + np.float32(1)
    rewrite(saved, arrays)
    refused(saved, "SHA-256")
    assert weights_digest([arrays[f"p{i}"] for i in range(4)]) != json.loads(str(arrays["meta"]))["sha256"]
