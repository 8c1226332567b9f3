"""int8 / float16 parity of the shipped default against its float32 SavedModel on all 70
pfg_sports photos: person-mask agreement, and every float32 detection at score >= 0.25
found again (box IoU >= 0.8 for float16, >= 0.5 for int8; `bad` lists (score, best IoU)).

    python results/rows/int8_parity.py saved_models/portrait_instance_mbv2_100_256 \
        > results/rows/int8_parity.txt
"""
import glob
import os
import sys

import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

from portrait_garden.ops.detection import box_iou_matrix
from portrait_garden.segment import read_photo

PHOTOS = "../shared/data/instances/pfg_sports/images/*"
MIN_BOX_IOU = {"float16": 0.8, "int8": 0.5}


def best_iou(reference, boxes):
    """IoU of each reference box with its best match among `boxes` (0 when there are none)."""
    if not len(boxes):
        return np.zeros(len(reference))
    iou = box_iou_matrix(tf.constant(np.concatenate([reference, boxes]), tf.float32)).numpy()
    return iou[:len(reference), len(reference):].max(axis=1)


def main(folder):
    reference = tf.saved_model.load(os.path.join(folder, "saved_model")) \
        .signatures["serving_default"]
    runners = {q: Interpreter(model_path=os.path.join(folder, f"model_{q}.tflite"))
               .get_signature_runner("serving_default") for q in MIN_BOX_IOU}
    for i, path in enumerate(sorted(glob.glob(PHOTOS))):
        photo = read_photo(path)
        ref = {k: v.numpy() for k, v in reference(image=tf.constant(photo[None])).items()}
        line = [f"{i:2d} {os.path.basename(path):8s}"]
        for q, run in runners.items():
            out = run(image=photo[None])
            agree = np.mean((out["person_probability"] > 0.5) == (ref["person_probability"] > 0.5))
            boxes = out["boxes"][:int(out["num_instances"])]
            clear = ref["scores"] >= 0.25
            found = [(round(float(s), 2), round(float(iou), 2)) for s, iou in
                     zip(ref["scores"][clear], best_iou(ref["boxes"][clear], boxes))]
            bad = [f for f in found if f[1] < MIN_BOX_IOU[q]]
            line.append(f"{q} agree {agree:.3f} n {int(out['num_instances'])}/"
                        f"{int(ref['num_instances'])} bad {bad}")
        print(" | ".join(line), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
