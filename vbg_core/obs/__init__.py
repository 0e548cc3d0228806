"""The OBS side of obs-vbg: standard library and ctypes only (runs inside OBS's Python).

- `libobs`     ctypes bindings (one signature table, saying what a NULL/false return
               means; failures raise ObsCallError), struct mirrors, constants
- `registry`   the reload-proof registration of `vbg_filter` and its trampolines
- `plugin`     the implementation the trampolines call (one per script load)
- `filter`     one filter instance: settings, worker, per-frame rendering
- `effect`     `vbg.effect` compiled with the shared constants; every parameter and
               technique looked up (and type-checked) at load, typed setters
- `gpu`        textures, readback, mask upload and the passes of `vbg.effect`
- `panel`      the properties panel and the settings keys' defaults
- `supervisor` starting, watching and restarting worker processes
"""
