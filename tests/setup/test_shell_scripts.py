"""The shell installers and CI script pass shellcheck (installed by install.sh --dev)."""

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = ("install/install.sh", "install/uninstall.sh", ".ci/run")


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="install.sh --dev installs shellcheck")
@pytest.mark.parametrize("script", SCRIPTS)
def test_shellcheck_is_clean(script):
    done = subprocess.run(["shellcheck", "-s", "bash", script], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_shellcheck_would_catch_a_bug(tmp_path):
    if shutil.which("shellcheck") is None:
        pytest.skip("install.sh --dev installs shellcheck")
    bad = tmp_path / "bad.sh"
    bad.write_text('#!/usr/bin/env bash\nrm -rf $1/*\n')
    assert subprocess.run(["shellcheck", str(bad)], capture_output=True).returncode != 0


@pytest.mark.parametrize("script", SCRIPTS)
def test_scripts_are_executable_bash(script):
    path = REPO / script
    assert path.read_text().startswith("#!/usr/bin/env bash\n") and path.stat().st_mode & 0o111
    assert subprocess.run(["bash", "-n", str(path)]).returncode == 0
