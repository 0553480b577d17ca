#!/usr/bin/env bash
# Refresh the vendored onnxruntime-web runtime from the npm registry (development time only; the
# dashboard never fetches anything from the network).
#
#   scripts/vendor_onnxruntime_web.sh            # the pinned version (VERSION below)
#   scripts/vendor_onnxruntime_web.sh 1.31.0     # another version: check the live-decoder tests after
#
# Only what the browser needs for single-threaded WebAssembly is kept (Streamlit sends no COOP/COEP
# headers, so no threads, no workers):
#   ort.wasm.bundle.min.mjs        the wasm-only ESM build with the emscripten glue bundled in (no second
#                                  import() of a .mjs that Streamlit would serve as text/plain)
#   ort-wasm-simd-threaded.wasm    the one non-JSEP wasm binary (SIMD; it also runs with one thread)
#   ort-wasm-simd-threaded.wasm.gz the same, gzipped here once (gzip -9 -n: reproducible): live.js fetches
#                                  it, because Streamlit gzips every other /app/static response anew per
#                                  request (0.4 CPU-s of the server per student for the wasm)
# The npm tarball carries no LICENSE file: the package's licence field must say MIT and the MIT text of
# microsoft/onnxruntime is written beside the files. VERSION records the version and SHA-256 sums.
set -euo pipefail

VERSION="${1:-1.30.0}"
PACKAGE="onnxruntime-web"
FILES=(ort.wasm.bundle.min.mjs ort-wasm-simd-threaded.wasm)
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/dashboard/static/vendor/onnxruntime-web"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

licence="$(npm view "$PACKAGE@$VERSION" license 2>/dev/null)"
if [ "$licence" != "MIT" ]; then
    echo "$PACKAGE@$VERSION is licensed '$licence', not MIT: check it before vendoring" >&2
    exit 1
fi
(cd "$work" && npm pack --silent "$PACKAGE@$VERSION" >/dev/null)
tar -xzf "$work/$PACKAGE-$VERSION.tgz" -C "$work"

rm -rf "$DEST"
mkdir -p "$DEST"
for name in "${FILES[@]}"; do
    cp "$work/package/dist/$name" "$DEST/$name"
done
gzip -9 -n -k "$DEST/ort-wasm-simd-threaded.wasm"

cat > "$DEST/LICENSE" <<'LICENCE'
MIT License

Copyright (c) 2018 - present Microsoft Corporation

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
LICENCE

{
    echo "$PACKAGE $VERSION"
    echo "source: npm package $PACKAGE@$VERSION"
    echo "integrity: $(npm view "$PACKAGE@$VERSION" dist.integrity 2>/dev/null)"
    (cd "$DEST" && sha256sum "${FILES[@]}" ort-wasm-simd-threaded.wasm.gz)
} > "$DEST/VERSION"
echo "vendored $PACKAGE $VERSION into ${DEST#$ROOT/}:"
ls -l "$DEST"
