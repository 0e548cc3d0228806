"""The `vbg` command: render and mask files, webcam to a virtual camera, benchmarks.

Every error a user can cause ends as one line on stderr and a non-zero exit.
"""

import argparse
import functools
import os
import signal
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import List, Optional

from . import masks
from ..engine import images
from ..shared import files
from ..shared.errors import MediaError, SettingsError, VbgError
from ..engine.pipeline import Pipeline
from .render import render_video
from ..shared.settings import KEYS, TABLE, Key, Settings
from .background import FORMS, parse_background
from .backdrop import BackgroundVideo


def _engine_options(parser: argparse.ArgumentParser) -> None:
    """The engine's flags, made from the settings table (the keys the worker reads)."""
    group = parser.add_argument_group("engine")
    for key in TABLE:
        if key.worker and not key.obs_only:
            _add_flag(group, key)


def _add_flag(parser, key: Key) -> None:
    """One table key as a flag: a bool that defaults to on as --no-X, a list with its
    choices, a number with its type; the help ends with the default."""
    if key.kind == "bool":
        parser.add_argument(key.flag, dest=key.field, action="store_false", help=key.help)
        return
    kind = {"int": int, "double": float}.get(key.kind, str)
    values = {"choices": [value for value, _ in key.choices]} if key.choices else {}
    parser.add_argument(key.flag, dest=key.field, type=kind, default=key.default,
                        help=f"{key.help} (default {key.default})", **values)


def _settings(args, **overrides) -> Settings:
    values = {key.field: getattr(args, key.field) for key in TABLE if key.worker and not key.obs_only}
    values.update(overrides)
    return Settings(**values)


def _note_provider(pipeline: Pipeline) -> None:
    segmenter = pipeline.segmenter
    if segmenter.model_note:
        print(f"vbg: {segmenter.model_note}", file=sys.stderr)
    note = f" ({segmenter.fallback_note})" if segmenter.fallback_note else ""
    print(f"vbg: inference on {segmenter.active_provider}{note}", file=sys.stderr)


def _progress(total: Optional[int], label: str):
    from tqdm import tqdm
    return tqdm(total=total, unit="frame", desc=label, disable=None, leave=False)


def _background_settings(args) -> dict:
    """--background, and for a picture or video --fit (one flag, both fits) and --no-loop."""
    return dict(parse_background(args.background), image_fit=args.image_fit, video_fit=args.image_fit,
                video_loop=args.video_loop)


def _backdrop(settings: Settings) -> Optional[BackgroundVideo]:
    """The background video of video mode (opened now: a bad file fails before any work)."""
    return BackgroundVideo(settings.video_path, settings.video_loop) if settings.mode == "video" else None


def cmd_render(args) -> int:
    inputs = [args.input] + ([args.background] if os.path.isfile(args.background) else [])
    files.refuse_inputs(args.output, inputs)
    files.check_writable(args.output)           # before the model loads or a frame is read
    settings = _settings(args, **_background_settings(args))
    backdrop = _backdrop(settings)
    try:
        pipeline = Pipeline(settings)
        _note_provider(pipeline)
        if images.is_image(args.input):
            first = backdrop.at(0.0) if backdrop else None
            images.write_image(args.output, pipeline(images.read_image(args.input), backdrop=first,
                                                        still=True))
        else:
            render_video(pipeline, args.input, args.output, _progress, backdrop)
    finally:
        if backdrop is not None:
            backdrop.close()
    print(f"vbg: wrote {args.output}", file=sys.stderr)
    return 0


def cmd_mask(args) -> int:
    jobs = masks.plan(args.inputs, args.out)    # refuses names that would replace an input
    pipeline = Pipeline(_settings(args, mode="transparent"))
    _note_provider(pipeline)
    masks.write(pipeline, jobs)
    print(f"vbg: wrote masks to {args.out}", file=sys.stderr)
    return 0


def cmd_camera(args) -> int:
    from .camera import run_camera
    settings = _settings(args, **_background_settings(args))
    backdrop = _backdrop(settings)
    try:
        pipeline = Pipeline(settings)
        _note_provider(pipeline)
        return run_camera(pipeline, device=args.device, virtual=args.virtual_camera,
                          preview=args.preview, backdrop=backdrop)
    finally:
        if backdrop is not None:
            backdrop.close()


def cmd_bench(args) -> int:
    from .bench import run_bench
    background = parse_background(args.background)
    if background["mode"] == "video":
        raise SettingsError("vbg bench times still backgrounds: give it blur, a colour or an image")
    video = {"video": Path(args.video)} if args.video else {}
    return run_bench(_settings(args, **background), frames=args.frames, naive=not args.no_naive, **video)


def build_parser() -> argparse.ArgumentParser:
    # allow_abbrev=False everywhere: no prefix matching (`--mode` is never read as `--model`)
    parser = argparse.ArgumentParser(prog="vbg", description="Virtual background: keep the person, replace the rest.",
                                     allow_abbrev=False)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=functools.partial(argparse.ArgumentParser, allow_abbrev=False))

    render = sub.add_parser("render", help="render an image or video with a new background")
    render.add_argument("input")
    render.add_argument("-o", "--output", required=True)
    render.add_argument("--background", default="blur", help="blur | blur:low|medium|high|SIGMA | a colour name "
                        "(red) | #RRGGBB | transparent | IMAGE PATH | VIDEO PATH (.mp4 .mov .mkv .webm ...)")
    render.set_defaults(func=cmd_render)

    mask = sub.add_parser("mask", help="write person masks (255 = person) for images, videos or frame folders")
    mask.add_argument("inputs", nargs="+", metavar="INPUT")
    mask.add_argument("--out", required=True, help="output directory")
    mask.set_defaults(func=cmd_mask)

    camera = sub.add_parser("camera", help="webcam to a virtual camera and/or a preview window")
    camera.add_argument("--device", type=int, default=0)
    camera.add_argument("--virtual-camera", action="store_true")
    camera.add_argument("--preview", action="store_true")
    camera.add_argument("--background", default="blur")
    camera.set_defaults(func=cmd_camera)
    for command in (render, camera):
        _add_flag(command, KEYS["image_fit"])
        _add_flag(command, KEYS["video_loop"])

    bench = sub.add_parser("bench", help="per-stage timings at 720p and 1080p")
    bench.add_argument("--frames", type=int, default=100)
    bench.add_argument("--background", default="blur")
    bench.add_argument("--no-naive", action="store_true", help="skip the naive float pipeline")
    bench.add_argument("--video", help="the clip to time (default samples/sam2_coffee.mp4: no whole body)")
    bench.set_defaults(func=cmd_bench)

    for command in (render, mask, camera, bench):
        _engine_options(command)
    _register_doctor(sub)
    return parser


def _register_doctor(sub) -> None:
    try:
        from .doctor import register
    except ImportError:
        return
    register(sub)


class Terminated(KeyboardInterrupt):
    """SIGTERM (a service manager) or SIGHUP (a closing terminal), raised in the main thread
    so it unwinds like Ctrl-C: temporary outputs are removed, targets left as they were."""


def _terminate(signum, frame):
    signal.signal(signum, signal.SIG_IGN)       # one clean-up; a repeat must not cut it short
    raise Terminated(signum)


@contextmanager
def _signals_as_interrupts():
    names = [n for n in ("SIGTERM", "SIGHUP", "SIGBREAK") if hasattr(signal, n)]
    try:
        previous = {n: signal.signal(getattr(signal, n), _terminate) for n in names}
    except ValueError:      # not the main thread (main() called from a thread): leave signals alone
        previous = {}
    try:
        yield
    finally:
        for name, handler in previous.items():
            signal.signal(getattr(signal, name), handler)


def _interrupted(exc: KeyboardInterrupt) -> int:
    if isinstance(exc, Terminated):
        signum = exc.args[0]
        print(f"vbg: stopped by {signal.Signals(signum).name}", file=sys.stderr)
        return 128 + signum
    print("vbg: interrupted", file=sys.stderr)
    return 130


def parse(parser: argparse.ArgumentParser, argv: Optional[List[str]]) -> argparse.Namespace:
    """argparse, and where a user types an OBS setting's name (`--mode color`), the
    flag that does it here (from the settings table) instead of 'unrecognized'."""
    args, unknown = parser.parse_known_args(argv)
    for word in unknown:
        name = word.split("=")[0]
        key = KEYS.get(name.lstrip("-").replace("-", "_")) if name.startswith("--") else None
        if key is not None and key.obs_only:
            parser.error(f"{name} is a setting of the OBS filter only")
        elif key is not None:
            parser.error(f"{name} is the OBS filter's name for it; here use "
                         f"{key.flag or '--background (' + FORMS + ')'}")
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse(build_parser(), argv)
    try:
        with _signals_as_interrupts():
            return args.func(args)
    except VbgError as exc:
        print(f"vbg: error: {exc}", file=sys.stderr)
    except OSError as exc:
        print(f"vbg: error: {MediaError(exc)}", file=sys.stderr)
    except KeyboardInterrupt as exc:
        return _interrupted(exc)
    return 1


if __name__ == "__main__":
    sys.exit(main())
