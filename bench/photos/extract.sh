#!/usr/bin/env bash
# Rebuilds bench/photos/*.jpg from Debian's python3-skimage package (scikit-image's sample
# photographs; licences in LICENSES.md). Needs apt-get and sharp (npm ci); the JPEGs it writes
# are committed, so the benchmark itself needs neither.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download python3-skimage >/dev/null && dpkg-deb -x python3-skimage_*.deb root)
data="$work/root/usr/lib/python3/dist-packages/skimage/data"
cd "$here/../.."
node --input-type=module - "$data" "$here" <<'JS'
import sharp from "sharp";
const [data, out] = process.argv.slice(2);
// name in the package -> name here; re-encoded as a JPEG (quality 92), the long side at most 640 px.
const photos = {
  "astronaut.png": "astronaut", "coffee.png": "coffee", "chelsea.png": "cat", "camera.png": "camera",
  "rocket.jpg": "rocket", "retina.jpg": "retina", "hubble_deep_field.jpg": "hubble",
  "brick.png": "brick", "grass.png": "grass", "gravel.png": "gravel",
};
for (const [file, name] of Object.entries(photos)) {
  const info = await sharp(`${data}/${file}`).resize(640, 640, { fit: "inside", withoutEnlargement: true }).removeAlpha().toColourspace("srgb").jpeg({ quality: 92, mozjpeg: true }).toFile(`${out}/${name}.jpg`);
  console.log(`${name}.jpg ${info.width}x${info.height} ${info.size} bytes`);
}
JS
