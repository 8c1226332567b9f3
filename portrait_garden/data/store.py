"""Decoded, resized examples packed into fixed-size arrays: the pipeline's cache.

Decoding 600x800 JPEGs every epoch would cap the pipeline far below the
throughput target on two cores; instead every set is decoded once, resized to
fit `max_side`, and packed top-left into `[N, max_side, max_side]` arrays that
tf.data slices without any Python in the loop.
"""

import dataclasses

import numpy as np


@dataclasses.dataclass
class ExampleStore:
    """Examples of one dataset, packed.

    Attributes:
      images: uint8 `[N, S, S, 3]`, each image top-left, zero padded.
      labels: uint8 `[N, S, S]` instance label maps (0 = background, padding).
      sizes: int32 `[N, 2]`, the `(height, width)` of each image inside its slot.
      ids: list of N str.
      source: str, the dataset's name.
    """

    images: np.ndarray
    labels: np.ndarray
    sizes: np.ndarray
    ids: list
    source: str = ""

    def __len__(self):
        return len(self.ids)

    @classmethod
    def from_examples(cls, examples, max_side, source=""):
        """Packs `Example`s (each already fitting `max_side`) into a store."""
        n = len(examples)
        if n == 0:
            raise ValueError(f"{source or 'dataset'}: no examples to pack.")
        images = np.zeros((n, max_side, max_side, 3), np.uint8)
        labels = np.zeros((n, max_side, max_side), np.uint8)
        sizes = np.zeros((n, 2), np.int32)
        for i, ex in enumerate(examples):
            h, w = ex.labels.shape
            if h > max_side or w > max_side:
                raise ValueError(f"{ex.id}: {h}x{w} does not fit max_side={max_side}; read "
                                 "the dataset with the same max_side.")
            images[i, :h, :w] = ex.image
            labels[i, :h, :w] = ex.labels
            sizes[i] = (h, w)
        return cls(images, labels, sizes, [ex.id for ex in examples], source)

    def example(self, i):
        """`(image, labels)` of example `i`, cropped to its size."""
        h, w = self.sizes[i]
        return self.images[i, :h, :w], self.labels[i, :h, :w]

    @classmethod
    def concatenate(cls, stores, source=""):
        """One store holding the examples of several stores of the same slot size."""
        return cls(np.concatenate([s.images for s in stores]),
                   np.concatenate([s.labels for s in stores]),
                   np.concatenate([s.sizes for s in stores]),
                   [i for s in stores for i in s.ids], source)
