"""Metrics (person IoU, 2-class mIoU, boundary F, mask AP), the evaluation runner and
the benchmark against MediaPipe's selfie segmenter."""

from portrait_garden.evaluate.metrics import (
    PersonIoU,
    boundary_f_score,
    boundary_recall,
    confusion_2class,
    miou_2class,
    person_iou,
)

__all__ = [
    "PersonIoU",
    "boundary_f_score",
    "boundary_recall",
    "confusion_2class",
    "miou_2class",
    "person_iou",
]
