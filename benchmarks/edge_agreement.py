"""Per-person mask edges at photo resolution: `instance_labels > 0` vs
`person_probability > 0.5` within 8 px of the probability's edge (issue "photos").

Runs the instance pipeline (`InstanceSegmenter`, float, from a `.keras` model) on
photos upscaled so their longer side is 1920 px, twice: with the labels thresholded
at network resolution and nearest-upsampled (the pipeline before photo-resolution
labels), and as shipped (owner from the grouping, in/out from the photo-resolution
probability). Prints the mean agreement of each.

Usage:
  python benchmarks/edge_agreement.py --model saved_models/portrait_instance_mbv2_256/model.keras \\
      --dataset pfcn --split val --count 10
"""

import argparse

import numpy as np
import tensorflow as tf
from PIL import Image

from portrait_garden.data import read_examples, resolve_dataset
from portrait_garden.evaluate.metrics import edge_agreement
from portrait_garden.models import InstanceSegmenter
from portrait_garden.models.instance_segmenter import instances_from_outputs
from portrait_garden.ops.resample import letterbox, undo_letterbox
from portrait_garden.saving import load_portrait_model


def network_resolution_labels(segmenter, photo):
    """The earlier pipeline: labels cut at network resolution, then nearest-upsampled."""
    image = tf.constant(photo[None])
    canvas, window = letterbox(image, segmenter.size)
    net = segmenter.network(canvas, training=False)
    labels, boxes, scores, num, prob = instances_from_outputs(net, canvas, segmenter.config)
    out = undo_letterbox(labels, boxes, scores, num, prob, window, tf.shape(image)[1:3])
    return out["instance_labels"].numpy(), out["person_probability"].numpy()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--dataset", default="pfcn")
    parser.add_argument("--split", default="val")
    parser.add_argument("--data-dir")
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--long-side", type=int, default=1920)
    args = parser.parse_args()
    segmenter = InstanceSegmenter(load_portrait_model(args.model))
    examples, _ = read_examples(resolve_dataset(args.dataset, args.data_dir), args.split)
    before, after = [], []
    for ex in examples[:args.count]:
        h, w = ex.image.shape[:2]
        scale = args.long_side / max(h, w)
        photo = np.asarray(Image.fromarray(ex.image).resize(
            (round(w * scale), round(h * scale)), Image.BILINEAR))
        labels, prob = network_resolution_labels(segmenter, photo)
        before.append(edge_agreement(labels, prob))
        out = segmenter.segment(photo)
        after.append(edge_agreement(out["instance_labels"], out["person_probability"]))
        print(f"{ex.id} {photo.shape[1]}x{photo.shape[0]}: network-resolution labels "
              f"{before[-1]:.4f}, photo-resolution labels {after[-1]:.4f}")
    print(f"mean over {len(after)} photos (8 px band): network-resolution labels "
          f"{np.mean(before):.4f} (min {np.min(before):.4f}), photo-resolution labels "
          f"{np.mean(after):.4f} (min {np.min(after):.4f})")


if __name__ == "__main__":
    main()
