# Build the one-folder app on Windows: dist\lowdash\lowdash.exe
# Usage (PowerShell, from anywhere):  powershell -ExecutionPolicy Bypass -File packaging\build.ps1
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..")

python -m PyInstaller --version *> $null
if ($LASTEXITCODE -ne 0) { python -m pip install -q "pyinstaller>=6.10" }
$watch = [System.Diagnostics.Stopwatch]::StartNew()
python -m PyInstaller --noconfirm --clean --log-level WARN `
  --distpath dist --workpath build\pyinstaller packaging\lowdash.spec
if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed ($LASTEXITCODE)" }
$size = (Get-ChildItem dist\lowdash -Recurse | Measure-Object -Property Length -Sum).Sum / 1MB
"built dist\lowdash in {0:N0} s; size: {1:N0} MB" -f $watch.Elapsed.TotalSeconds, $size

# Smoke test: open on the demo offscreen, save a screenshot, exit 0.
$env:QT_QPA_PLATFORM = "offscreen"
$env:LOWDASH_DATA_DIR = Join-Path $env:TEMP "lowdash-smoke"
& dist\lowdash\lowdash.exe --demo --generations 300 --screenshot (Join-Path $env:TEMP "lowdash-smoke.png")
if ($LASTEXITCODE -ne 0) { throw "smoke test failed ($LASTEXITCODE)" }
