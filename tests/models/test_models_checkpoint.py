"""The model file: round trip, atomic writes, and every refusal."""
from __future__ import annotations

import json
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

import data.files
from models import MLP, CheckpointError, Spec, atomic_write, load, save
from models.checkpoint import weights_digest


def read_npz(path):
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def write_npz(path, arrays):
    with open(path, "wb") as f:  # np.savez to an open file keeps the exact name
        np.savez(f, **arrays)


def meta_of(arrays):
    return json.loads(str(arrays["meta"]))


def refused(path, *words):
    """Load must fail with a one-line CheckpointError naming the file and saying `words`."""
    with pytest.raises(CheckpointError) as info:
        load(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"
    return message


@pytest.fixture
def saved(tmp_path, digit_model):
    return save(tmp_path / "model.npz", digit_model, {"epochs": 3, "dev_acc": np.float32(0.5), "where": tmp_path})


def test_round_trip(saved, digit_model, digits, tmp_path):
    model, meta = load(saved)
    assert model.spec == digit_model.spec
    assert all(p.dtype == np.float32 for p in model.params)
    assert all(np.array_equal(p, q) for p, q in zip(model.params, digit_model.params))
    np.testing.assert_array_equal(model.predict_proba(digits), digit_model.predict_proba(digits))
    assert meta["epochs"] == 3 and meta["dev_acc"] == 0.5 and meta["where"] == str(tmp_path)
    assert meta["format"] == "nn-tui-model" and meta["version"] == 2
    assert Spec.from_dict(meta["spec"]) == digit_model.spec
    assert meta["sha256"] == weights_digest(digit_model.params)
    beside = json.loads((tmp_path / "model.json").read_text())
    assert beside == meta


def test_save_adds_the_suffix_and_makes_folders(tmp_path, digit_model):
    path = save(tmp_path / "deep" / "er" / "best", digit_model)
    assert path == tmp_path / "deep" / "er" / "best.npz"
    assert path.exists() and path.with_suffix(".json").exists()
    assert load(path)[0].spec == digit_model.spec


def test_atomic_write_leaves_no_temp_files(saved, tmp_path, digit_model):
    save(saved, digit_model)  # overwrite too
    assert sorted(os.listdir(tmp_path)) == ["model.json", "model.npz"]


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(data.files.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f.bin"]


def test_unstorable_metadata_writes_nothing(tmp_path, digit_model):
    with pytest.raises(TypeError, match="cannot store"):
        save(tmp_path / "m.npz", digit_model, {"bad": object()})
    assert os.listdir(tmp_path) == []


def test_missing_file(tmp_path):
    refused(tmp_path / "nowhere.npz", "no such file")


def test_tampered_weight(saved):
    arrays = read_npz(saved)
    arrays["p0"][3, 4] += 0.001
    write_npz(saved, arrays)
    refused(saved, "SHA-256")


def test_weight_shape_not_matching_the_spec(saved):
    arrays = read_npz(saved)
    arrays["p0"] = arrays["p0"][:, :15].copy()
    meta = meta_of(arrays)
    meta["sha256"] = weights_digest([arrays[f"p{i}"] for i in range(4)])  # only the shape is wrong
    arrays["meta"] = np.array(json.dumps(meta))
    write_npz(saved, arrays)
    refused(saved, "p0", "(784, 15)", "(784, 16)")


def test_spec_not_matching_the_weights(saved):
    arrays = read_npz(saved)
    meta = meta_of(arrays)
    meta["spec"]["hidden"] = [32]
    arrays["meta"] = np.array(json.dumps(meta))
    write_npz(saved, arrays)
    refused(saved, "784-32-10")


def test_wrong_number_of_arrays(saved):
    arrays = read_npz(saved)
    del arrays["p3"]
    write_npz(saved, arrays)
    refused(saved, "3 weight arrays", "needs 4")


def test_wrong_dtype(saved):
    arrays = read_npz(saved)
    arrays["p1"] = arrays["p1"].astype(np.float64)
    write_npz(saved, arrays)
    refused(saved, "p1", "float64")


def test_non_finite_weight(saved):
    arrays = read_npz(saved)
    arrays["p2"][0, 0] = np.nan
    meta = meta_of(arrays)
    meta["sha256"] = weights_digest([arrays[f"p{i}"] for i in range(4)])
    arrays["meta"] = np.array(json.dumps(meta))
    write_npz(saved, arrays)
    refused(saved, "nan or inf")


def test_missing_metadata(tmp_path, digit_model):
    path = tmp_path / "elsewhere.npz"
    write_npz(path, {f"arr_{i}": p for i, p in enumerate(digit_model.params)})
    refused(path, "no metadata")


def test_object_array_is_never_unpickled(saved):
    arrays = read_npz(saved)
    arrays["p0"] = np.array([{"evil": 1}, None], dtype=object)
    with open(saved, "wb") as f:
        np.savez(f, **arrays)  # numpy pickles object arrays
    refused(saved, "Python objects")


def test_plain_pickle_file(tmp_path):
    path = tmp_path / "model.npz"
    path.write_bytes(pickle.dumps({"W": [1, 2, 3]}))
    refused(path, "not an .npz")


@pytest.mark.parametrize("content", [b"hello, not a model\n", b"", b"PK\x03\x04broken zip"])
def test_not_a_zip_file(tmp_path, content):
    path = tmp_path / "model.npz"
    path.write_bytes(content)
    message = refused(path, "not an .npz")
    assert "pickle" not in message


def test_an_npy_file(tmp_path, digit_model):
    path = tmp_path / "weights.npy"
    np.save(path, digit_model.params[0])
    refused(path, "not an .npz")


def test_a_folder(tmp_path):
    (tmp_path / "dir.npz").mkdir()
    refused(tmp_path / "dir.npz")


@pytest.mark.parametrize("change, words", [
    ({"version": 3}, ("version 3", "version 1, 2")),
    ({"version": True}, ("version True",)),
    ({"format": "keras"}, ("not an nn-tui model", "keras")),
    ({"spec": {"hidden": [16], "activation": "swish"}}, ("bad architecture", "swish")),
])
def test_wrong_metadata(saved, change, words):
    arrays = read_npz(saved)
    arrays["meta"] = np.array(json.dumps({**meta_of(arrays), **change}))
    write_npz(saved, arrays)
    refused(saved, *words)


def test_metadata_not_json(saved):
    arrays = read_npz(saved)
    arrays["meta"] = np.array("{not json")
    write_npz(saved, arrays)
    refused(saved, "not valid JSON")


def test_a_float64_model_saves_as_float32(tmp_path):
    model = MLP(Spec(10, (4,), 3), dtype=np.float64)
    path = save(tmp_path / "m64", model)
    loaded, _ = load(path)
    for p, q in zip(loaded.params, model.params):
        assert p.dtype == np.float32
        np.testing.assert_array_equal(p, q.astype(np.float32))


def test_load_accepts_str_and_path(saved):
    assert load(str(saved))[0].spec == load(Path(saved))[0].spec


def test_unreadable_sizes_in_metadata(saved):
    arrays = read_npz(saved)
    meta = meta_of(arrays)
    meta["spec"]["hidden"] = ["abc"]
    arrays["meta"] = np.array(json.dumps(meta))
    write_npz(saved, arrays)
    refused(saved, "bad architecture")


def test_a_zip_of_other_things(tmp_path):
    path = tmp_path / "model.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("meta", "hello")
        z.writestr("p0", "not an array")
    refused(path, "not a NumPy array")


# -- format version 2: conv layers; version 1 files still load ---------------------------------

DATA = Path(__file__).parent / "data"


def test_a_version_1_file_saved_by_the_mlp_only_nn_tui_still_loads(digits):
    """tests/models/data/v1-784-16-10.npz was written by nn-tui's save before conv layers existed."""
    model, meta = load(DATA / "v1-784-16-10.npz")
    assert meta["version"] == 1 and "conv" not in meta["spec"]
    assert model.spec == Spec(784, (16,), 10, "tanh", "xavier", 0.0, seed=5) and str(model.spec) == "784-16-10"
    assert not model.convs and model.predict_proba(digits).shape == (50, 10)
    assert model.dense[0].b.any()  # the saved, non-zero biases


@pytest.fixture
def cnn(rng):
    model = MLP(Spec(784, (8,), 10, conv=(3, 4), kernel=3, seed=2))
    for layer in model.convs:
        layer.b[...] = rng.standard_normal(layer.b.shape).astype(np.float32)
    return model


def test_a_cnn_round_trip(tmp_path, cnn, digits):
    path = save(tmp_path / "cnn", cnn, {"dev_accuracy": 0.9})
    model, meta = load(path)
    assert meta["version"] == 2 and meta["spec"]["conv"] == [3, 4] and meta["spec"]["kernel"] == 3
    assert model.spec == cnn.spec and str(model.spec) == "c3-c4-8-10-k3"
    assert [p.shape for p in model.params] == [(9, 3), (3,), (27, 4), (4,), (196, 8), (8,), (8, 10), (10,)]
    np.testing.assert_array_equal(model.predict_proba(digits), cnn.predict_proba(digits))


def test_a_cnn_file_whose_shapes_do_not_match_its_spec(tmp_path, cnn):
    path = save(tmp_path / "cnn", cnn)
    arrays = read_npz(path)
    meta = meta_of(arrays)
    meta["spec"]["kernel"] = 5  # the 3x3 filters no longer fit
    arrays["meta"] = np.array(json.dumps(meta))
    write_npz(path, arrays)
    refused(path, "p0", "(9, 3)", "(25, 3)")


@pytest.mark.parametrize("spec, words", [({"conv": [4], "kernel": 4}, ("bad architecture", "kernel 4")),
                                         ({"kernel": True}, ("bad architecture", "kernel True")),
                                         ({"conv": ["x"]}, ("bad architecture",)),
                                         ({"conv": [4] * 6}, ("bad architecture", "below 1x1"))])
def test_a_cnn_file_with_a_bad_conv_spec(tmp_path, cnn, spec, words):
    path = save(tmp_path / "cnn", cnn)
    arrays = read_npz(path)
    meta = meta_of(arrays)
    meta["spec"].update(spec)
    arrays["meta"] = np.array(json.dumps(meta))
    write_npz(path, arrays)
    refused(path, *words)
