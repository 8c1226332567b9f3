"""Metrics (person IoU; later mIoU, boundary F, mask AP) and the evaluation runner."""

from portrait_garden.evaluate.metrics import PersonIoU, boundary_recall, person_iou

__all__ = ["PersonIoU", "boundary_recall", "person_iou"]
