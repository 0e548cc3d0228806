#!/usr/bin/env bash
# Remove what install/install.sh added (Linux, macOS).
#
#   ./install/uninstall.sh [--restore-backup] [--keep-venv]
#
# Takes obs_vbg.py out of OBS's current scene collection (only while OBS is closed),
# or with --restore-backup puts back the scene collection file exactly as it was before
# the first install (changes made in OBS since then are lost); removes
# obs_vbg_python.txt, the optional RVM model (models/optional/) and the environment the
# installer created (VBG_VENV, default .venv; --keep-venv keeps it). System packages
# installed by --dev are left alone.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VBG_VENV:-$REPO/.venv}"
BASE_PYTHON="${VBG_BASE_PYTHON:-python3}"
RESTORE="" KEEP_VENV=0

say() { printf '[uninstall] %s\n' "$*"; }

while [ $# -gt 0 ]; do
    case "$1" in
        --restore-backup) RESTORE="--restore-backup" ;;
        --keep-venv) KEEP_VENV=1 ;;
        -h|--help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) printf 'unknown option: %s\n' "$1" >&2; exit 2 ;;
    esac
    shift
done

if [ -d "$VENV" ]; then VENV="$(cd "$VENV" && pwd)"; fi
cd "$REPO"   # python -m puts the working directory first on sys.path

# The OBS-config logic is standard library only, so any Python 3 runs it, even after
# the environment is gone.
PY="$BASE_PYTHON"
if [ -x "$VENV/bin/python" ]; then PY="$VENV/bin/python"; fi
# shellcheck disable=SC2086
PYTHONPATH="$REPO" "$PY" -m vbg_core.setup unregister --script "$REPO/obs_vbg.py" $RESTORE \
    | sed 's/^/[uninstall] OBS: /'

PYFILE="$REPO/obs_vbg_python.txt"
case "$(cat "$PYFILE" 2>/dev/null)" in
    "$VENV"/*) rm -f "$PYFILE"; say "removed $PYFILE" ;;
    "") ;;
    *) say "left $PYFILE alone: it names an interpreter outside $VENV" ;;
esac

OPTIONAL="$REPO/models/optional"   # the RVM model install.sh --with-rvm put there (GPL-3.0)
if [ -d "$OPTIONAL" ]; then rm -rf "$OPTIONAL"; say "removed $OPTIONAL (the optional RVM model)"; fi

if [ "$KEEP_VENV" = 1 ]; then
    say "kept $VENV (--keep-venv)"
elif [ -f "$VENV/.vbg-created" ]; then   # only an environment the installer made
    rm -rf "$VENV"
    say "removed $VENV"
elif [ -e "$VENV" ]; then
    say "left $VENV alone: install/install.sh did not create it"
fi
say "done"
