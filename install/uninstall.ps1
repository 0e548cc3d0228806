<#
.SYNOPSIS
    Remove what install\install.ps1 added (Windows).
.DESCRIPTION
    Takes obs_vbg.py out of OBS's current scene collection (only while OBS is closed),
    or with -RestoreBackup puts back the scene collection file exactly as it was before
    the first install (changes made in OBS since then are lost); removes
    obs_vbg_python.txt, the optional RVM model (models\optional\) and the environment
    the installer created (VBG_VENV, default .venv; -KeepVenv keeps it).
#>
[CmdletBinding()]
param(
    [switch]$RestoreBackup,
    [switch]$KeepVenv
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$Repo = (Resolve-Path (Join-Path $PSScriptRoot '..')).Path
$Venv = if ($env:VBG_VENV) { $env:VBG_VENV } else { Join-Path $Repo '.venv' }
if (Test-Path $Venv) { $Venv = (Resolve-Path $Venv).Path }
$VenvPython = Join-Path $Venv 'Scripts\python.exe'

function Say([string]$Text) { Write-Host "[uninstall] $Text" }

Set-Location $Repo   # python -m puts the working directory first on sys.path
# The OBS-config logic is standard library only: any Python 3 runs it.
$python = if (Test-Path $VenvPython) { @($VenvPython) } elseif (Get-Command py -ErrorAction SilentlyContinue) { @('py', '-3') } else { @('python') }
$arguments = @($python | Select-Object -Skip 1) + @('-m', 'vbg_core.setup', 'unregister', '--script', (Join-Path $Repo 'obs_vbg.py'))
if ($RestoreBackup) { $arguments += '--restore-backup' }
$env:PYTHONPATH = $Repo
& $python[0] @arguments | ForEach-Object { Say "OBS: $_" }

$pythonFile = Join-Path $Repo 'obs_vbg_python.txt'
if (Test-Path $pythonFile) {
    if ((Get-Content -Raw $pythonFile).Trim().StartsWith($Venv)) {
        Remove-Item -Force $pythonFile
        Say "removed $pythonFile"
    } else {
        Say "left $pythonFile alone: it names an interpreter outside $Venv"
    }
}

$optional = Join-Path $Repo 'models\optional'   # the RVM model install.ps1 -WithRvm put there (GPL-3.0)
if (Test-Path $optional) {
    Remove-Item -Recurse -Force $optional
    Say "removed $optional (the optional RVM model)"
}

if ($KeepVenv) {
    Say "kept $Venv (-KeepVenv)"
} elseif (Test-Path (Join-Path $Venv '.vbg-created')) {   # only an environment the installer made
    Remove-Item -Recurse -Force $Venv
    Say "removed $Venv"
} elseif (Test-Path $Venv) {
    Say "left $Venv alone: install.ps1 did not create it"
}
Say 'done'
