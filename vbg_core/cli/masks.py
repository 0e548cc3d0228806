"""`vbg mask`: person masks (255 = person) for images, videos and folders of frames.

An image `a.jpg` gives OUT/a_mask.png (never OUT/a.png: with OUT the image's own folder
that would be the image); a video `a.mp4` gives OUT/a/00000.png, 00001.png, ...; a
folder of frames `a/` gives OUT/a/ with each frame's name (the layout scoring tools
read). Before any work, the plan is checked: no mask may be an input, no input may
sit in a mask folder (OUT/a/ being the frames' own folder is refused), and no two
inputs may share a mask name.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

import numpy as np

from . import media
from ..engine import images
from ..engine.pipeline import Pipeline
from ..shared.errors import OutputError
from ..shared.files import check_writable, same_file

SUFFIX = "_mask"


@dataclass(frozen=True)
class Job:
    source: str
    target: Path                        # the mask file (an image) or folder (a video, a folder)
    frames: Optional[List[Path]] = None  # a folder's frames


def plan(inputs: List[str], out: str) -> List[Job]:
    """Where each input's masks go; OutputError if any would replace an input or collide."""
    jobs = [_job(source, Path(out)) for source in inputs]
    _refuse_collisions(jobs)
    check_writable(str(Path(out) / f"probe{SUFFIX}.png"), what=f"masks to {out}")
    return jobs


def _job(source: str, out: Path) -> Job:
    path = Path(source)
    if path.is_dir():
        return Job(source, out / path.name, media.frame_files(source))
    if images.is_image(source):
        return Job(source, out / f"{path.stem}{SUFFIX}.png")
    return Job(source, out / path.stem)


def _refuse_collisions(jobs: List[Job]) -> None:
    sources = [str(f) for job in jobs for f in (job.frames or [job.source])]
    owners = {}
    for job in jobs:
        key = str(job.target).casefold()     # a.jpg and A.png collide on Windows and macOS
        if key in owners:
            raise OutputError(f"{owners[key]} and {job.source} would both write masks to {job.target}: "
                              "rename one, or mask them into different --out folders")
        owners[key] = job.source
        for source in sources:
            if same_file(str(job.target), source):
                raise OutputError(f"refusing to write {job.target}: it is the input {source}; "
                                  "choose another --out folder")
            if same_file(str(job.target), str(Path(source).parent)):
                raise OutputError(f"refusing to write masks into {job.target}: the input {source} is in it; "
                                  "choose another --out folder")


def write(pipeline: Pipeline, jobs: List[Job]) -> None:
    """Binary masks (0 or 255), one PNG per image or frame, each written whole or not at all."""
    for job in jobs:
        pipeline.reset()
        still = job.frames is None and images.is_image(job.source)
        for target, rgb_u8 in _frames(job):
            binary = np.where(pipeline.alpha(rgb_u8, still) >= 128, 255, 0).astype(np.uint8)
            images.write_image(str(target), binary)


def _frames(job: Job) -> Iterator[Tuple[Path, np.ndarray]]:
    """-> (mask path, RGB frame) for an image, a folder of frames or a video."""
    if job.frames is not None:
        for frame in job.frames:
            yield job.target / f"{frame.stem}.png", images.read_image(str(frame))
    elif images.is_image(job.source):
        yield job.target, images.read_image(job.source)
    else:
        reader = media.VideoReader(job.source)
        try:
            for index, rgb_u8 in enumerate(reader):
                yield job.target / f"{index:05d}.png", rgb_u8
        finally:
            reader.close()
