"""The engine (numpy, OpenCV, onnxruntime): frame -> person mask -> composite.

- `imaging`   frame pyramids, placement, banded work on both cores
- `images`    still image files in and out
- `segment`   onnxruntime sessions: frame -> person probabilities
- `refine`    probabilities -> the drawn alpha (temporal, guided edges)
- `compose`   the CPU compositor (colour, image, blur, transparent)
- `pipeline`  the stages in order, for the command line
- `roi`       following the person: the model on a crop around the previous mask
- `pose`      whole bodies: MediaPipe Pose tracked per person (`pose_detect` finds people,
              `pose_landmarks` runs the landmark/segmentation model on a region,
              `pose_geometry` the rotated regions and warps)
- `blobs`     stray blobs: the selfie model's pieces no tracked skeleton crosses
- `motion`    has the picture moved since the last segmented frame (the worker's idle)
- `regions`   where a mask already decides the alpha (for the OBS composite)
- `metrics`   IoU, boundary F, flicker

Knows nothing of OBS or of the channel; `vbg_core.worker` joins the two.
"""
