#!/usr/bin/env bash
# Rebuilds ui/fonts/wqy-microhei-kiosk.ttf from Debian's fonts-wqy-microhei package.
# Needs: apt-get (download only, no install), dpkg, python3 with fonttools (pip install fonttools).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get download fonts-wqy-microhei
dpkg -x fonts-wqy-microhei_*.deb x
python3 - <<'PY'
from fontTools.ttLib import TTCollection
TTCollection('x/usr/share/fonts/truetype/wqy/wqy-microhei.ttc').fonts[0].save('face0.ttf')
PY
pyftsubset face0.ttf \
  --unicodes="U+0020-007E,U+00A0-024F,U+02C6-02DD,U+0300-036F,U+0391-03C9,U+0401-0451,U+2000-206F,U+20AC,U+2100-22FF,U+2460-24FF,U+2500-25FF,U+2600-266F,U+2700-27BF,U+3000-303F,U+3105-312F,U+3200-32FF,U+3400-4DBF,U+4E00-9FFF,U+F900-FAFF,U+FE10-FE1F,U+FE30-FE4F,U+FF00-FFEF" \
  --layout-features='*' --glyph-names --notdef-outline --name-IDs='*' --name-languages='*' \
  --output-file="$root/ui/fonts/wqy-microhei-kiosk.ttf"
echo "wrote $root/ui/fonts/wqy-microhei-kiosk.ttf"
