"""The `vbg` command (`main`): render files (`render`, videos in `media`, the
`--background` value in `background`, a background video's frames in `backdrop`),
person masks (`masks`), webcam to a virtual camera (`camera`), per-stage timings
(`bench`), installation checks (`doctor`, `doctor_engine`)."""
