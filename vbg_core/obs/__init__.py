"""The OBS side of obs-vbg: standard library and ctypes only (runs inside OBS's Python).

- `libobs`     ctypes bindings (one signature table, saying what a NULL/false return
               means; failures raise ObsCallError), struct mirrors, constants
- `registry`   the reload-proof registration of `vbg_filter` and its trampolines
- `plugin`     the implementation the trampolines call (one per script load)
- `filter`     one filter instance: settings, worker, per-frame rendering
- `effect`     `vbg.effect` compiled with the shared constants; every parameter and
               technique looked up (and type-checked) at load, typed setters
- `gpu`        textures, readback, mask upload and the passes of `vbg.effect`
- `region_buffer`  the mask's regions as a vertex buffer
- `panel`      the properties panel and the defaults, made from the settings table
- `status`     the status line's one state and its sentence
- `supervisor` the one worker process for every filter: start, watch, restart, the hub
- `worker_log` the worker's private, bounded log files and its last words
"""
