"""What a filter's drawn frames were like, for its periodic log line (stdlib only)."""

import threading
from collections import deque


class FrameStats:
    """What the drawn frames were like (mask age, regions used, the crop read back
    while following the person), over the last 600. Written by the graphics thread,
    summarised by the supervisor's and UI threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ages = deque(maxlen=600)
        self.by_regions = deque(maxlen=600)
        self.crops = deque(maxlen=600)      # per frame: the crop read back, or None
        self.fine = deque(maxlen=600)       # per drawn frame: a mask finer than the model's (following)

    def add(self, age: int, by_regions: bool, fine: bool = False) -> None:
        with self.lock:
            self.ages.append(age)
            self.by_regions.append(by_regions)
            self.fine.append(fine)

    def crop(self, rect) -> None:
        """Per rendered frame: the rectangle read back (x0, y0, x1, y1), or None."""
        with self.lock:
            self.crops.append(rect)

    def summary(self) -> str:
        with self.lock:
            ages, by_regions, fine = sorted(self.ages), sum(self.by_regions), sum(self.fine)
            crops = list(self.crops)
        if not ages:
            return "no masks drawn yet"
        return (f"mask age median {ages[len(ages) // 2]} frames, p90 {ages[int(len(ages) * 0.9)]} "
                f"over the last {len(ages)} frames, drawn by regions in {100 * by_regions / len(ages):.0f} %"
                f", finer than the model's in {100 * fine / len(ages):.0f} %; {_crops(crops)}")


def _crops(crops) -> str:
    held = [rect for rect in crops if rect is not None]
    if not held:
        return "no crop read back"
    x0, y0, x1, y1 = held[-1]
    return (f"crop read back in {100 * len(held) / len(crops):.0f} % of frames, "
            f"last x {x0:.3f}-{x1:.3f} y {y0:.3f}-{y1:.3f}")
