#!/usr/bin/env bash
# Build the one-folder app with PyInstaller: dist/lowdash/lowdash (Linux, macOS: also
# dist/Lowdash.app). Usage: packaging/build.sh   (needs: pip install -e '.[package]')
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m PyInstaller --version >/dev/null 2>&1 || python3 -m pip install -q 'pyinstaller>=6.10'
start=$(date +%s)
python3 -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/lowdash.spec
end=$(date +%s)
echo "built dist/lowdash in $((end - start)) s; size: $(du -sh dist/lowdash | cut -f1)"
