#!/usr/bin/env bash
# The OBS end-to-end tests (tests/obs) once more, in the newest OBS Debian ships (sid).
#
#   tests/obs/newest_obs.sh [PYTEST_ARG...]   (as root; CI runs it after the tests;
#                                              arguments replace the default tests/obs)
#
# Builds a Debian sid root holding obs-studio once (debootstrap from the Debian mirror
# apt already uses here; kept in VBG_SID_ROOT, default /var/cache/obs-vbg-sid, and
# reused while present), bind-mounts /proc, /dev, /dev/shm, /tmp, the checkout and the
# worker's Python into it, puts an `obs` that runs sid's OBS in that root first on PATH
# and runs `.venv/bin/python -m pytest -q tests/obs` with CI=true (a skipped OBS test
# fails) and VBG_EXPECT_OBS_VERSION set to sid's OBS version (every OBS the harness
# starts must report it over obs-websocket). The mounts are undone on any exit.
# VBG_VENV: the project's environment, as for install.sh (default .venv here).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ROOT="${VBG_SID_ROOT:-/var/cache/obs-vbg-sid}"
PY="${VBG_VENV:-$REPO/.venv}/bin/python"
PACKAGES="obs-studio,xvfb,xauth,libgl1-mesa-dri,libegl-mesa0,libglx-mesa0,python3,ca-certificates"
WORK=""
BOUND=()

say() { printf '[newest-obs] %s\n' "$*"; }
die() { printf '[newest-obs] error: %s\n' "$*" >&2; exit 1; }

unmount_under() {   # every mount at or below $1, deepest first
    local point
    awk -v top="$1" '$5 == top || index($5, top "/") == 1 { print $5 }' /proc/self/mountinfo \
        | sort -r | while read -r point; do umount "$point" || umount -l "$point"; done
}

cleanup() {
    unmount_under "$ROOT"
    if [ -n "$WORK" ]; then rm -rf "$WORK"; fi
}

ensure_debs() {   # ensure_debs PACKAGE...: apt-get installs the missing ones
    local pkg missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing ${missing[*]}"
    local install=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}")
    "${install[@]}" >/dev/null 2>&1 || { apt-get update -q >/dev/null && "${install[@]}" >/dev/null; }
}

debian_mirror() {   # the Debian mirror of this machine's release in its apt sources
    local codename files
    # shellcheck disable=SC1091  # the running system's
    codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
    files="$(ls /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
    if [ -n "$files" ]; then
        # shellcheck disable=SC2086  # a list of file names without spaces
        awk -v RS= -v want="$codename" '
            /(^|\n)Enabled: *no/ { next }
            { uri = ""; ok = (want == "")
              n = split($0, line, "\n")
              for (i = 1; i <= n; i++) {
                  if (line[i] ~ /^URIs:/) { split(line[i], word, " "); uri = word[2] }
                  if (line[i] ~ /^Suites:/ && (line[i] " ") ~ (" " want " ")) ok = 1 }
              if (ok && uri != "") { print uri; exit } }' $files
    fi
    if [ -f /etc/apt/sources.list ]; then
        awk -v want="$codename" '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z+]+:\/\//) {
                if (want == "" || $(i + 1) == want) { print $i; exit }; break } }' /etc/apt/sources.list
    fi
}

build_root() {   # debootstrap the sid root into $ROOT unless a finished one is there
    [ -f "$ROOT/.vbg-complete" ] && { say "sid root: reusing $ROOT"; return 0; }
    ensure_debs debootstrap debian-archive-keyring
    local mirror partial="$ROOT.partial" started=$SECONDS
    mirror="$(debian_mirror | head -n 1)"
    [ -n "$mirror" ] || die "no Debian mirror found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list"
    unmount_under "$partial"
    rm -rf --one-file-system "$partial"
    say "building a Debian sid root with OBS in $ROOT from $mirror (2 to 10 minutes)"
    if ! debootstrap --variant=minbase --include="$PACKAGES" sid "$partial" "$mirror" >"$ROOT.log" 2>&1; then
        tail -n 30 "$ROOT.log" >&2
        die "debootstrap failed (log: $ROOT.log)"
    fi
    rm -rf "$partial/var/cache/apt/archives/"*.deb
    touch "$partial/.vbg-complete"
    mv "$partial" "$ROOT"
    say "sid root built in $(( (SECONDS - started) / 60 )) min"
}

covered() {   # covered PATH: PATH is inside a folder bound already
    local top
    for top in "${BOUND[@]}"; do
        case "$1/" in "$top"/*) return 0 ;; esac
    done
    return 1
}

bind() {   # bind SRC [DEST]: SRC at DEST (default: the same path) inside the root
    local src="$1" dst="$ROOT${2:-$1}"
    if [ -d "$src" ]; then mkdir -p "$dst"
    else mkdir -p "$(dirname "$dst")" && { [ -e "$dst" ] || : > "$dst"; }
    fi
    mount --bind "$src" "$dst"
    mount --make-private "$dst"
    BOUND+=("${2:-$1}")
}

bind_python() {   # the worker's interpreter (the venv and the Python it was made from)
    local venv base stdlib real
    read -r venv base stdlib real < <("$PY" -c 'import os, sys, sysconfig
print(sys.prefix, sys.base_prefix, sysconfig.get_paths()["stdlib"], os.path.realpath(sys._base_executable))')
    covered "$venv" || bind "$venv"
    if [ "$base" != /usr ]; then
        covered "$base" || bind "$base"
        return 0
    fi
    # The system Python: sid's /usr/bin/python3 is another version, so the venv's bin
    # (whose python links to /usr/bin/python3) is replaced in the root by a copy whose
    # python is this machine's own binary, and this machine's standard library is bound.
    [ -e "$ROOT$stdlib" ] || bind "$stdlib"
    cp -a "$venv/bin" "$WORK/venv-bin"
    for link in "$WORK/venv-bin"/python*; do
        if [ -L "$link" ]; then rm "$link" && cp "$real" "$link"; fi
    done
    bind "$WORK/venv-bin" "$venv/bin"
}

mount_all() {
    local path
    for path in /proc /dev /dev/shm /tmp; do bind "$path"; done
    covered "$REPO" || bind "$REPO"
    bind_python
}

write_wrapper() {   # $WORK/bin/obs: sid's OBS in the root, in the caller's folder, same PID
    mkdir -p "$WORK/bin"
    cat > "$WORK/bin/obs" <<EOF
#!/bin/sh
exec chroot "$ROOT" /bin/sh -c 'cd "\$0" && exec /usr/bin/obs "\$@"' "\$PWD" "\$@"
EOF
    chmod +x "$WORK/bin/obs"
}

main() {
    [ "$(id -u)" = 0 ] || die "run as root (debootstrap, mount and chroot need it)"
    [ -x "$PY" ] || die "$PY missing: run ./install/install.sh --dev first"
    trap cleanup EXIT
    unmount_under "$ROOT"
    build_root
    WORK="$(mktemp -d /tmp/newest-obs.XXXXXX)"
    mount_all
    write_wrapper
    local version
    # shellcheck disable=SC2016  # dpkg-query's own format
    version="$(chroot "$ROOT" dpkg-query -W -f='${Version}' obs-studio \
        | sed -E 's/^([0-9]+:)?([0-9]+\.[0-9]+\.[0-9]+).*/\2/')"    # as obs-websocket reports it
    cd "$REPO"
    say "OBS on PATH: $(PATH="$WORK/bin:$PATH" obs --version 2>&1 | tail -n 1) (Debian sid obs-studio $version; this machine's: $(obs --version 2>&1 | tail -n 1))"
    env CI=true TMPDIR=/tmp VBG_EXPECT_OBS_VERSION="$version" PATH="$WORK/bin:$PATH" \
        "$PY" -m pytest -q -p no:cacheprovider "${@:-tests/obs}"
}

main "$@"
