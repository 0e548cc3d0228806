"""What both processes import: standard library only (OBS's embedded Python loads it).

- `errors`    typed, actionable errors
- `files`     outputs written beside their target and renamed into place; same-file checks
- `models`    the model registry (files, input sizes, checksums)
- `settings`  the one table of settings keys and the validated `Settings`
- `maths`     every number and formula the CPU and the shader share
- `channel`   the shared-memory mailboxes between the OBS filters and their worker (and its hub)
- `interpreter`  where the worker's Python is recorded, found the same way by OBS and doctor
"""
