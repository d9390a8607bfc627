"""Tests of the torchvision data-set loaders of homeonet.ann.train on tiny fake data sets.

The files are written in torchvision's on-disk layout into a temporary folder (no download):
MNIST and Fashion-MNIST as idx files in ``ROOT/<Class>/raw``, CIFAR-10 as pickled batches in
``ROOT/cifar-10-batches-py``. torchvision checks CIFAR-10's files against their md5 sums, which
fake files cannot match, so the CIFAR-10 test replaces that check (and only that) with one that
accepts the files. The tests skip themselves where torchvision is not installed or cannot be
imported (a build that does not match the installed torch).
"""

import builtins
import math
import pickle
import struct

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from homeonet._validate import HomeonetError  # noqa: E402
from homeonet.ann import train as train_mod  # noqa: E402


def _torchvision():
    try:
        import torchvision
    except ImportError as err:
        pytest.skip(f"torchvision is not installed ({err})")
    except Exception as err:  # installed but unusable, e.g. a CUDA build next to a CPU torch
        pytest.skip(f"torchvision cannot be imported: {type(err).__name__}: {str(err).splitlines()[0]}")
    return torchvision


def _write_idx(path, array):
    """Write a uint8 array as an idx file (big-endian header: 0, 0, type 0x08, ndim; then each size)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    with open(path, "wb") as f:
        f.write(bytes([0, 0, 0x08, array.ndim]))
        f.write(struct.pack(f">{array.ndim}I", *array.shape))
        f.write(array.tobytes())


def _fake_images(n, shape, labels, rng):
    # each class has its own bright patch, so that a network can learn the labels in one epoch
    images = rng.integers(0, 60, size=(n,) + shape, dtype=np.uint8)
    rows = images if len(shape) == 2 else images.transpose(0, 2, 1, 3)  # (n, rows, ...) view
    for i, label in enumerate(labels):
        rows[i, 2 * int(label):2 * int(label) + 2] = 250
    return images


def _write_mnist_like(root, folder, n_train=100, n_test=40):
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    out = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        labels = np.arange(n) % 10
        rng.shuffle(labels)
        images = _fake_images(n, (28, 28), labels, rng)
        _write_idx(raw / f"{split}-images-idx3-ubyte", images)
        _write_idx(raw / f"{split}-labels-idx1-ubyte", labels.astype(np.uint8))
        out[split] = (images, labels)
    return out


@pytest.mark.parametrize("name, folder", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_load_mnist_like_from_disk_and_train(tmp_path, name, folder):
    _torchvision()
    written = _write_mnist_like(tmp_path, folder)
    data = train_mod.load_dataset(name, root=tmp_path)
    assert data.name == name and data.input_shape == (1, 28, 28) and data.n_classes == 10
    assert data.x_train.shape == (100, 1, 28, 28) and data.x_test.shape == (40, 1, 28, 28)
    assert data.x_train.dtype == torch.float32 and data.y_train.dtype == torch.long
    assert np.array_equal(data.y_train.numpy(), written["train"][1])
    assert np.array_equal(data.y_test.numpy(), written["t10k"][1])
    # standardised with the training set's statistics (one channel): the pixel order is kept
    x_raw = torch.tensor(written["train"][0], dtype=torch.float32) / 255
    assert torch.allclose(data.x_train[:, 0], (x_raw - x_raw.mean()) / x_raw.std(), atol=1e-5)
    assert abs(float(data.x_train.mean())) < 1e-5
    res = train_mod.train("synaptic_scaling", data, epochs=1, hidden=(32,), batch_size=20, lr=1e-2, seed=0)
    assert res.history[0]["epoch"] == 1 and math.isfinite(res.history[0]["train_loss"])
    assert res.hidden[0].shape == (40, 32)
    # chance is 0.1; the class patches make the fake set easy (1.0 in development runs)
    assert res.test_accuracy > 0.5


def _write_cifar10(root, n_per_batch=12, n_test=20):
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    batches = {}
    for fname, n in [(f"data_batch_{i}", n_per_batch) for i in range(1, 6)] + [("test_batch", n_test)]:
        labels = rng.integers(0, 10, size=n)
        images = _fake_images(n, (3, 32, 32), labels, rng)  # CIFAR stores rows of 3 x 32 x 32 (channel first)
        with open(folder / fname, "wb") as f:
            pickle.dump({"data": images.reshape(n, -1), "labels": labels.tolist()}, f)
        batches[fname] = (images, labels)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": [f"class{i}" for i in range(10)]}, f)
    return batches


def test_load_cifar10_from_disk_and_train_cnn(tmp_path, monkeypatch):
    torchvision = _torchvision()
    batches = _write_cifar10(tmp_path)
    with pytest.raises(HomeonetError, match="cifar10") as info:  # torchvision's md5 check rejects fake files
        train_mod.load_dataset("cifar10", root=tmp_path)
    assert "\n" not in str(info.value)
    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity", lambda *args, **kwargs: True)
    data = train_mod.load_dataset("cifar10", root=tmp_path)
    assert data.input_shape == (3, 32, 32) and data.x_train.shape == (60, 3, 32, 32)
    assert data.x_test.shape == (20, 3, 32, 32) and data.y_train.dtype == torch.long
    train_labels = np.concatenate([batches[f"data_batch_{i}"][1] for i in range(1, 6)])
    assert np.array_equal(data.y_train.numpy(), train_labels)
    assert np.array_equal(data.y_test.numpy(), batches["test_batch"][1])
    # channels first and standardised per channel: the loader undid torchvision's (N, H, W, C)
    first = torch.tensor(batches["data_batch_1"][0][0], dtype=torch.float32)
    assert torch.corrcoef(torch.stack([data.x_train[0].flatten(), first.flatten()]))[0, 1] > 0.99
    assert torch.allclose(data.x_train.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5)
    assert torch.allclose(data.x_train.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-3)
    res = train_mod.train("batchnorm", data, model="cnn", hidden=(4, 8), epochs=1, batch_size=20, seed=0)
    assert math.isfinite(res.history[0]["train_loss"]) and [h.shape for h in res.hidden] == [(20, 4), (20, 8)]


def test_unreadable_mnist_folder(tmp_path):
    _torchvision()
    (tmp_path / "MNIST" / "raw").mkdir(parents=True)  # folder there, files missing
    with pytest.raises(HomeonetError, match="cannot read mnist") as info:
        train_mod.load_dataset("mnist", root=tmp_path)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("error, message", [(ImportError, "needs torchvision"),
                                            (RuntimeError, "needs a torchvision that matches torch")])
def test_missing_or_broken_torchvision_is_one_line_error(tmp_path, monkeypatch, error, message):
    # runs with or without torchvision: its import is made to fail as it does when it is absent,
    # or when an installed build does not match torch (RuntimeError from its operator registration)
    real_import = builtins.__import__

    def failing_import(name, *args, **kwargs):
        if name == "torchvision" or name.startswith("torchvision."):
            raise error("operator torchvision::nms does not exist\nsecond line")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", failing_import)
    with pytest.raises(HomeonetError, match=message) as info:
        train_mod.load_dataset("fashion_mnist", root=tmp_path)
    assert "\n" not in str(info.value)
