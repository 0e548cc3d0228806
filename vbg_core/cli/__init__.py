"""The `vbg` command (`main`): render and mask files (`render`, `media`), webcam to a
virtual camera (`camera`), per-stage timings (`bench`), installation checks (`doctor`,
`doctor_engine`)."""
