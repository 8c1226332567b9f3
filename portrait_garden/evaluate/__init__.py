"""Metrics (person IoU; later mIoU, boundary F, mask AP) and the evaluation runner."""

from portrait_garden.evaluate.metrics import PersonIoU, person_iou

__all__ = ["PersonIoU", "person_iou"]
