"""obs-vbg engine: person segmentation, mask refinement and background compositing."""

__version__ = "0.1.0"
