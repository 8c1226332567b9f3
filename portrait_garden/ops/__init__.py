"""Pure TF ops: boundary targets, superpixels, detector decoding, affinity grouping,
letterbox resampling."""

from portrait_garden.ops.affinity import GROUPINGS, box_masks, group_instances
from portrait_garden.ops.boundary import boundary_band
from portrait_garden.ops.detection import box_iou_matrix, decode_centers
from portrait_garden.ops.resample import guided_coefficients, letterbox, undo_letterbox
from portrait_garden.ops.superpixels import cell_sums, rgb_to_lab, slic

__all__ = [
    "GROUPINGS",
    "boundary_band",
    "box_iou_matrix",
    "box_masks",
    "cell_sums",
    "decode_centers",
    "group_instances",
    "guided_coefficients",
    "letterbox",
    "rgb_to_lab",
    "slic",
    "undo_letterbox",
]
