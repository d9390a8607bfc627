r"""Train small networks with a chosen normalization and record their hidden activations.

- :func:`load_dataset`: the offline data sets of :mod:`homeonet.datasets` (``digits``, ``mnist5k``,
  ``mnist1d``), a generated classification set, or MNIST / Fashion-MNIST / CIFAR-10 read by
  torchvision from a local folder (never downloaded), as standardised tensors.
- :func:`build_model`: an MLP or a small CNN whose hidden blocks use one normalization by name
  (:data:`NORMS`); torch's own layers for the baselines, :mod:`homeonet.ann.modules` for the rest.
- :func:`train`: seeded training with a torch optimizer and ``DataLoader``, optional early stopping
  and progress bar; returns per-epoch metrics and the hidden activations on the test set as
  ``(samples x units)`` arrays, ready for homeonet's usage / coding measures.
- :func:`evaluate`: one ``(dataset, seed)`` point of ``homeonet compare``
  (:mod:`homeonet.comparison`): train, then the test accuracy and the coding measures of the
  hidden units.

Examples::

    >>> from homeonet.ann.train import train
    >>> result = train("synaptic_scaling", epochs=2, seed=0)
    >>> sorted(result.history[-1])
    ['epoch', 'test_accuracy', 'train_accuracy', 'train_loss']
    >>> [h.shape[1] for h in result.hidden]
    [128, 128]
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, TensorDataset

from homeonet._validate import HomeonetError, check_choice
from homeonet.ann.modules import DivisiveNormalization, EquiNormalization, IntrinsicPlasticity, SynapticScaling

__all__ = ["NORMS", "DATASETS", "MODELS", "Data", "TrainResult", "load_dataset", "build_model", "train",
           "evaluate"]

#: Normalization names accepted by :func:`build_model` and :func:`train`.
NORMS = ("none", "batchnorm", "layernorm", "groupnorm", "weightnorm", "synaptic_scaling", "synaptic_scaling_rate",
         "intrinsic_plasticity", "divisive", "equinorm")

#: Dataset names accepted by :func:`load_dataset`: :data:`homeonet.datasets.DATASETS` (offline, with their
#: sources and licences), a generated set, and the torchvision sets read from a local folder.
DATASETS = ("digits", "mnist5k", "mnist1d", "generated", "mnist", "fashion_mnist", "cifar10")

#: Networks of :func:`build_model`.
MODELS = ("mlp", "cnn")

#: Default hidden sizes: units of the MLP's blocks, channels of the CNN's.
HIDDEN = {"mlp": (128, 128), "cnn": (16, 32)}

_TORCHVISION = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST", "cifar10": "CIFAR10"}


@dataclass
class Data:
    """A train/test split as float tensors (inputs standardised with training statistics).

    Attributes
    ----------
    name : str
    x_train, y_train, x_test, y_test : torch.Tensor
        Inputs ``(N, *input_shape)`` and integer labels ``(N,)``.
    input_shape : tuple of int
        Shape of one input, e.g. ``(64,)`` or ``(1, 28, 28)``.
    n_classes : int
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    input_shape: tuple
    n_classes: int


@dataclass
class TrainResult:
    """What :func:`train` returns.

    Attributes
    ----------
    norm, dataset : str
    seed : int
    history : list of dict
        One dict per epoch: ``epoch``, ``train_loss``, ``train_accuracy``, ``test_accuracy``
        (and ``val_accuracy`` with early stopping).
    test_accuracy : float
        Accuracy of the returned model on the test set (fraction in [0, 1]).
    hidden : list of numpy.ndarray
        Activity of each hidden layer on the test set, ``(samples x units)``, in eval mode
        (after the nonlinearity; convolutional maps are averaged over positions).
    model : torch.nn.Module
    train_time : float
        Wall time of training, seconds.
    """

    norm: str
    dataset: str
    seed: int
    history: list
    test_accuracy: float
    hidden: list
    model: nn.Module
    train_time: float = 0.0
    extra: dict = field(default_factory=dict)


def _standardise(train: torch.Tensor, test: torch.Tensor, dims, per_feature: bool = True) -> tuple:
    # Centre per feature (channel); scale per feature, or by one global standard deviation when
    # features such as the border pixels of digits are (almost) constant in the training set:
    # a per-feature scale would blow their rare test values up by orders of magnitude.
    mean = train.mean(dim=dims, keepdim=True)
    std = train.std(dim=dims, keepdim=True) if per_feature else (train - mean).std()
    std = torch.as_tensor(std).clamp(min=1e-6)
    return (train - mean) / std, (test - mean) / std


def load_dataset(name: str = "digits", root=None, *, split_seed: int = 0, test_fraction: float | None = None,
                 n_samples: int = 3000) -> Data:
    """Load a classification data set as tensors, inputs standardised with the training set's statistics.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS`: ``'digits'``, ``'mnist5k'``, ``'mnist1d'`` (the offline sets of
        :func:`homeonet.datasets.load`, with their fixed stratified splits; images as ``(1, H, W)``),
        ``'generated'`` (``sklearn.datasets.make_classification``, 40 features, 10 classes), or
        ``'mnist'``, ``'fashion_mnist'``, ``'cifar10'`` (torchvision, read from *root*).
    root : str or Path, optional
        Folder holding the torchvision data set (torchvision's layout, e.g. ``ROOT/MNIST/raw``).
        Required for the torchvision data sets; nothing is downloaded.
    split_seed : int
        Seed of the train/test split of the offline and the generated sets (the torchvision sets
        come with their own split).
    test_fraction : float, optional
        Test share, in (0, 1) (default: the data set's own, see :func:`homeonet.datasets.load`;
        0.25 for ``generated``).
    n_samples : int
        Size of the ``generated`` set.

    Returns
    -------
    Data
        Offline images are centred pixel by pixel and scaled by one standard deviation over all
        pixels, so that the almost constant border pixels are not blown up; torchvision images are
        standardised per channel; other features (``mnist1d``, ``generated``) one by one.

    Raises
    ------
    HomeonetError
        Unknown name, bad split arguments, a missing optional package, missing or unusable
        torchvision, missing or unreadable folder.
    """
    check_choice("dataset", name, DATASETS)
    if name == "generated":
        from sklearn.datasets import make_classification
        from sklearn.model_selection import train_test_split

        if test_fraction is not None and not 0.0 < test_fraction < 1.0:
            raise HomeonetError(f"test_fraction must be in (0, 1); got {test_fraction!r}")
        x, y = make_classification(n_samples=n_samples, n_features=40, n_informative=20, n_redundant=10,
                                   n_classes=10, n_clusters_per_class=2, class_sep=1.5, random_state=split_seed)
        xtr, xte, ytr, yte = train_test_split(x, y, test_size=test_fraction or 0.25, random_state=split_seed,
                                              stratify=y)
        xtr, xte = _standardise(torch.tensor(xtr, dtype=torch.float32), torch.tensor(xte, dtype=torch.float32), 0)
        return Data(name, xtr, torch.tensor(ytr, dtype=torch.long), xte, torch.tensor(yte, dtype=torch.long),
                    (x.shape[1],), int(np.max(y)) + 1)
    if name in _TORCHVISION:
        return _load_torchvision(name, root)
    from homeonet import datasets

    d = datasets.load(name, split_seed=split_seed, test_fraction=test_fraction)
    shape = (1, *d.shape) if d.image else d.shape
    xtr = torch.from_numpy(d.x_train).reshape(-1, *shape)
    xte = torch.from_numpy(d.x_test).reshape(-1, *shape)
    xtr, xte = _standardise(xtr, xte, 0, per_feature=not d.image)
    return Data(name, xtr, torch.from_numpy(d.y_train), xte, torch.from_numpy(d.y_test), shape, d.n_classes)


def is_image(name: str) -> bool:
    """Whether data set *name* (from :data:`DATASETS`) holds images, the input of :func:`build_model`'s CNN."""
    return name in _TORCHVISION or name in ("digits", "mnist5k")


def _load_torchvision(name, root) -> Data:
    if root is None:
        raise HomeonetError(f"root must name the local folder holding {name} (torchvision layout); got None")
    try:
        import torchvision
    except ImportError:
        raise HomeonetError(f"dataset {name!r} needs torchvision: pip install torchvision") from None
    except Exception as err:  # installed but unusable, e.g. a CUDA build of torchvision next to a CPU torch
        msg = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise HomeonetError(f"dataset {name!r} needs a torchvision that matches torch {torch.__version__}; "
                            f"importing it failed: {msg}") from None
    root = Path(root)
    if not root.is_dir():
        raise HomeonetError(f"root folder for {name} does not exist: {str(root)!r}")
    cls = getattr(torchvision.datasets, _TORCHVISION[name])
    try:
        parts = [cls(str(root), train=train, download=False) for train in (True, False)]
    except (RuntimeError, OSError) as err:
        msg = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise HomeonetError(f"cannot read {name} from {str(root)!r}: {msg}") from None
    out = []
    for ds in parts:
        data = torch.as_tensor(np.asarray(ds.data), dtype=torch.float32) / 255.0
        data = data.permute(0, 3, 1, 2) if data.dim() == 4 else data.unsqueeze(1)  # (N, C, H, W)
        out.append((data, torch.as_tensor(np.asarray(ds.targets), dtype=torch.long)))
    (xtr, ytr), (xte, yte) = out
    xtr, xte = _standardise(xtr, xte, (0, 2, 3))
    return Data(name, xtr, ytr, xte, yte, tuple(xtr.shape[1:]), int(ytr.max()) + 1)


def _groups(channels: int, wanted: int = 8) -> int:
    return max(g for g in range(1, min(wanted, channels) + 1) if channels % g == 0)


class _Net(nn.Module):
    """Hidden blocks followed by a linear read-out; ``forward(x, return_hidden=True)`` also returns each block's output."""

    def __init__(self, blocks, head, conv: bool) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.pool = nn.MaxPool2d(2) if conv else None
        self.head = head
        self.conv = conv

    def forward(self, x, return_hidden: bool = False):
        hidden = []
        h = x if self.conv else x.flatten(1)
        for block in self.blocks:
            h = block(h)
            if return_hidden:
                hidden.append(h.mean(dim=(2, 3)) if self.conv else h)
            if self.conv:
                h = self.pool(h)
        out = self.head(h.flatten(1))
        return (out, hidden) if return_hidden else out


def _block(n_in: int, n_out: int, norm: str, conv: bool, norm_kwargs: dict) -> nn.Sequential:
    layer = nn.Conv2d(n_in, n_out, 3, padding=1) if conv else nn.Linear(n_in, n_out)
    kw = dict(norm_kwargs.get(norm, {}))
    if norm == "none" or norm == "equinorm":
        return nn.Sequential(layer, nn.ReLU())
    if norm == "batchnorm":
        return nn.Sequential(layer, (nn.BatchNorm2d if conv else nn.BatchNorm1d)(n_out, **kw), nn.ReLU())
    if norm == "layernorm":  # over all features of a sample; for maps GroupNorm(1, C) is exactly that
        return nn.Sequential(layer, nn.GroupNorm(1, n_out, **kw) if conv else nn.LayerNorm(n_out, **kw), nn.ReLU())
    if norm == "groupnorm":
        return nn.Sequential(layer, nn.GroupNorm(kw.pop("num_groups", _groups(n_out)), n_out, **kw), nn.ReLU())
    if norm == "weightnorm":
        return nn.Sequential(nn.utils.parametrizations.weight_norm(layer), nn.ReLU())
    if norm == "synaptic_scaling":
        return nn.Sequential(layer, SynapticScaling(n_out, **kw), nn.ReLU())
    if norm == "synaptic_scaling_rate":  # literal form: sense each unit's firing rate, after the ReLU
        kw = {"activity": "rate", "affine": False, **kw}
        return nn.Sequential(layer, nn.ReLU(), SynapticScaling(n_out, **kw))
    if norm == "intrinsic_plasticity":
        return nn.Sequential(layer, IntrinsicPlasticity(n_out, **kw))
    if norm == "divisive":
        return nn.Sequential(layer, DivisiveNormalization(n_out, **kw), nn.ReLU())
    raise HomeonetError(f"norm must be one of {', '.join(NORMS)}; got {norm!r}")  # pragma: no cover


def build_model(norm: str, input_shape, n_classes: int, *, model: str = "mlp", hidden=None,
                norm_kwargs: dict | None = None) -> nn.Module:
    """Build an MLP or a small CNN whose hidden blocks use the normalization *norm*.

    Blocks are ``Linear/Conv -> norm -> ReLU`` (torch's placement for BatchNorm), except
    ``'weightnorm'`` (weight-normalised layer -> ReLU), ``'synaptic_scaling_rate'`` (layer -> ReLU ->
    ``SynapticScaling(activity='rate', affine=False)``: the literal form, each unit's firing rate is
    sensed and its incoming weights scaled), ``'intrinsic_plasticity'`` (layer ->
    adaptive sigmoid, the layer includes its nonlinearity) and ``'none'``/``'equinorm'``
    (layer -> ReLU; equi-normalization acts on the weights between optimizer steps, see
    :func:`train`). The CNN has 3x3 convolutions with 2x2 max-pooling after each block and a
    linear read-out of the last block's pooled feature maps, flattened (as LeNet: a global average
    would discard where each feature is, and with it a third of the accuracy on MNIST).

    Parameters
    ----------
    norm : str
        One of :data:`NORMS`.
    input_shape : tuple of int
        Shape of one input sample; the MLP flattens it.
    n_classes : int
    model : {'mlp', 'cnn'}
    hidden : sequence of int, optional
        Units (MLP) or channels (CNN) of each hidden block. Default: :data:`HIDDEN` of *model*.
    norm_kwargs : dict, optional
        Keyword arguments per norm name, e.g. ``{'synaptic_scaling': {'target': 0.5}}``.

    Returns
    -------
    torch.nn.Module
        ``forward(x)`` returns logits; ``forward(x, return_hidden=True)`` returns
        ``(logits, [hidden activity of each block])``.

    Raises
    ------
    HomeonetError
        An unknown norm or model, hidden sizes that are not integers >= 1, a CNN on non-image input or
        with more blocks than the image's poolings allow.
    """
    check_choice("norm", norm, NORMS)
    check_choice("model", model, MODELS)
    hidden = HIDDEN[model] if hidden is None else tuple(hidden)
    if not hidden or any(isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 1 for h in hidden):
        raise HomeonetError(f"hidden must be a non-empty sequence of integers >= 1; got {hidden!r}")
    conv = model == "cnn"
    if conv and len(input_shape) != 3:
        raise HomeonetError(f"model 'cnn' needs image inputs (C, H, W); got input shape {tuple(input_shape)}")
    n_in = input_shape[0] if conv else int(np.prod(input_shape))
    # positions left after one 2x2 pooling per block
    positions = int(np.prod([size // 2 ** len(hidden) for size in input_shape[1:]])) if conv else 1
    if positions < 1:
        raise HomeonetError(f"hidden: {len(hidden)} blocks pool a {input_shape[1]}x{input_shape[2]} image to nothing; "
                            f"use at most {int(np.log2(min(input_shape[1:])))}")
    blocks = []
    for n_out in hidden:
        blocks.append(_block(n_in, int(n_out), norm, conv, norm_kwargs or {}))
        n_in = int(n_out)
    return _Net(blocks, nn.Linear(n_in * positions, n_classes), conv)


def _weight_layers(net: _Net) -> list:
    return [block[0] for block in net.blocks] + [net.head]


@torch.no_grad()
def _evaluate(net: nn.Module, x: torch.Tensor, y: torch.Tensor, device, batch: int = 2048, hidden: bool = False):
    net.eval()
    correct, acts = 0, None
    for i in range(0, len(x), batch):
        xb = x[i:i + batch].to(device)
        out = net(xb, return_hidden=hidden)
        if hidden:
            out, hs = out
            hs = [h.detach().cpu().numpy() for h in hs]
            acts = hs if acts is None else [np.concatenate([a, h]) for a, h in zip(acts, hs)]
        correct += int((out.argmax(1).cpu() == y[i:i + batch]).sum())
    return (correct / max(len(x), 1), acts) if hidden else correct / max(len(x), 1)


def train(norm: str = "none", dataset="digits", *, model: str = "mlp", hidden=None, epochs: int = 20,
          batch_size: int = 64, lr: float = 1e-3, weight_decay: float = 0.0, optimizer: str = "adam", seed: int = 0,
          patience: int | None = None, val_fraction: float = 0.1, root=None, device="cpu", progress: bool = False,
          norm_kwargs: dict | None = None) -> TrainResult:
    """Train a network with one normalization and return its metrics and hidden activations.

    Parameters
    ----------
    norm : str
        One of :data:`NORMS`.
    dataset : str or Data
        A name from :data:`DATASETS` (loaded with :func:`load_dataset`) or a loaded :class:`Data`.
    model : {'mlp', 'cnn'}
    hidden : sequence of int, optional
        Hidden layer sizes (channels for the CNN). Default: :data:`HIDDEN` of *model*.
    epochs : int
        Maximum number of epochs, >= 1.
    batch_size : int
    lr, weight_decay : float
        Optimizer settings.
    optimizer : {'adam', 'sgd'}
        ``torch.optim.Adam``, or ``torch.optim.SGD`` with momentum 0.9.
    seed : int
        Seeds weight initialisation and batch order (the data split is fixed by the data set).
    patience : int, optional
        Early stopping: hold out *val_fraction* of the training set and stop after *patience*
        epochs without a better validation accuracy, restoring the best weights.
    val_fraction : float
        Share of the training set held out when *patience* is given.
    root
        Passed to :func:`load_dataset`.
    device : str or torch.device
    progress : bool
        Show a progress bar over epochs (tqdm).
    norm_kwargs : dict, optional
        Passed to :func:`build_model`.

    Returns
    -------
    TrainResult

    Raises
    ------
    HomeonetError
        Unknown norm, data set, model or optimizer; non-positive epochs or batch size.
    """
    check_choice("norm", norm, NORMS)
    check_choice("model", model, MODELS)
    check_choice("optimizer", optimizer, ("adam", "sgd"))
    for pname, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise HomeonetError(f"{pname} must be an integer >= 1; got {value!r}")
    if patience is not None and (isinstance(patience, bool) or not isinstance(patience, int) or patience < 1):
        raise HomeonetError(f"patience must be an integer >= 1 or None; got {patience!r}")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise HomeonetError(f"lr must be a finite number > 0; got {lr!r}")
    data = dataset if isinstance(dataset, Data) else load_dataset(dataset, root)
    device = torch.device(device)

    torch.manual_seed(seed)
    net = build_model(norm, data.input_shape, data.n_classes, model=model, hidden=hidden,
                      norm_kwargs=norm_kwargs).to(device)
    x_train, y_train = data.x_train, data.y_train
    x_val = y_val = None
    if patience is not None:
        perm = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(seed))
        n_val = max(1, int(round(val_fraction * len(x_train))))
        x_val, y_val = x_train[perm[:n_val]], y_train[perm[:n_val]]
        x_train, y_train = x_train[perm[n_val:]], y_train[perm[n_val:]]
    # Batches are drawn by index lists: one tensor gather per batch instead of per-sample collation.
    train_set = TensorDataset(x_train, y_train)
    sampler = BatchSampler(RandomSampler(train_set, generator=torch.Generator().manual_seed(seed)),
                           batch_size=batch_size, drop_last=len(train_set) > batch_size)
    loader = DataLoader(train_set, sampler=sampler, batch_size=None)
    if optimizer == "adam":
        opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    else:
        opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay)
    balancer = EquiNormalization(_weight_layers(net)) if norm == "equinorm" else None
    loss_fn = nn.CrossEntropyLoss()

    history, best, best_state, stale = [], -1.0, None, 0
    epoch_iter = range(1, epochs + 1)
    if progress:
        from tqdm.auto import tqdm
        epoch_iter = tqdm(epoch_iter, desc=f"{norm} seed {seed}", unit="epoch", leave=False)
    t0 = time.perf_counter()
    for epoch in epoch_iter:
        net.train()
        total_loss, correct, count = 0.0, 0, 0
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            out = net(xb)
            loss = loss_fn(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if balancer is not None:
                balancer.step()
            total_loss += float(loss.detach()) * len(yb)
            correct += int((out.argmax(1) == yb).sum())
            count += len(yb)
        record = {"epoch": epoch, "train_loss": total_loss / count, "train_accuracy": correct / count,
                  "test_accuracy": _evaluate(net, data.x_test, data.y_test, device)}
        if patience is not None:
            record["val_accuracy"] = _evaluate(net, x_val, y_val, device)
            if record["val_accuracy"] > best:
                best, stale = record["val_accuracy"], 0
                best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            else:
                stale += 1
        history.append(record)
        if not math.isfinite(record["train_loss"]):
            break
        if patience is not None and stale >= patience:
            break
    train_time = time.perf_counter() - t0
    if best_state is not None:
        net.load_state_dict(best_state)
    acc, acts = _evaluate(net, data.x_test, data.y_test, device, hidden=True)
    return TrainResult(norm=norm, dataset=data.name, seed=seed, history=history, test_accuracy=acc, hidden=acts,
                       model=net, train_time=train_time)


def evaluate(dataset="digits", seed: int = 0, *, norm: str = "none", model: str = "mlp", hidden=None,
             epochs: int = 20, batch_size: int = 64, lr: float = 1e-3, root=None, device="cpu",
             progress: bool = False) -> dict:
    """Train one network and measure it: one point of ``homeonet compare`` (:mod:`homeonet.comparison`).

    Parameters
    ----------
    dataset : str or Data
        A name from :data:`DATASETS` or a loaded :class:`Data`.
    seed : int
        Seed of the initial weights and the batch order.
    norm, model, hidden, epochs, batch_size, lr, root, device, progress
        As in :func:`train`.

    Returns
    -------
    dict
        ``test_accuracy`` (fraction in [0, 1]), the coding measures of
        :func:`homeonet.comparison.coding_measures` of the hidden units' test-set activity (mean over
        the hidden layers), ``wall_time`` (s, training) and ``epochs_run``.
    """
    from homeonet.comparison import coding_measures

    data = dataset if isinstance(dataset, Data) else _cached_dataset(dataset, None if root is None else str(root))
    res = train(norm, data, model=model, hidden=hidden, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
                root=root, device=device, progress=progress)
    layers = [coding_measures(h) for h in res.hidden]
    out = {k: float(np.mean([m[k] for m in layers])) for k in layers[0]}
    return {"test_accuracy": float(res.test_accuracy), **out, "wall_time": float(res.train_time),
            "epochs_run": len(res.history)}


@functools.lru_cache(maxsize=4)
def _cached_dataset(name: str, root) -> Data:
    """:func:`load_dataset` of *name*, kept for the next points of a comparison (read-only tensors)."""
    return load_dataset(name, root)
