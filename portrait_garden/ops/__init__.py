"""Pure TF ops (boundary targets; later superpixels, box decoding, affinity grouping)."""

from portrait_garden.ops.boundary import boundary_band

__all__ = ["boundary_band"]
