#!/usr/bin/env bash
# Builds .gpu-bench/: everything `npm run bench:gpu` needs on a Linux x86-64 GPU machine that has Python (or xz) but
# no Node and no network (issue 14, "Measure on a real GPU"). The folder holds
#   run.sh            unpacks, finds the Vulkan loader and the NVIDIA driver, runs bench-gpu (see its header)
#   payload.tar.xz    app/bin/node (this machine's Node, debug info stripped), app/bench.cjs (the CLI in one file,
#                     esbuild, onnxruntime-node external), app/webgpu-probe-main.cjs (when the source has the probe),
#                     app/node_modules/onnxruntime-{node,common} (JS, onnxruntime_binding.node, libonnxruntime.so.1)
#   debs/             libvulkan1 for amd64 (`apt-get download`), unpacked with dpkg -x into the work folder if the
#                     machine has no loader
#   MANIFEST.txt      versions, commit, sizes
# and refuses a folder over 50 MiB (the tracked tree is ~11 MB and a device run carries 64 MiB in all).
#
# The device tool's call (from the repository root; the GPU run takes about 7 minutes: packs ~1 min, then the
# bench's default budgets, webgpu 270 s and cpu 90 s; report.json, report.md and run.log come back from $OUT):
#   run(command: "bash .gpu-bench/run.sh", carry: [".gpu-bench"], timeout_s: 600)
# Try it here first, on the software adapter and with no node on PATH (on merged-/usr systems /bin is /usr/bin, which
# holds node: link bash, coreutils, tar, xz or python3, grep, find and ldd into a folder of their own, say /tmp/tools):
#   tools/gpu-bench/pack.sh && cp -r .gpu-bench /tmp/x && cd /tmp/x && env -i PATH=/tmp/tools HOME=/tmp \
#     VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json bash run.sh --tiny --out /tmp/x/report
#
# usage: tools/gpu-bench/pack.sh [--out DIR]   (default .gpu-bench in the repository root; needs npm install here)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dest="$root/.gpu-bench"
[[ "${1:-}" == "--out" ]] && dest="$(mkdir -p "$2" && cd "$2" && pwd)"
limit_mib=50
say() { printf 'pack.sh: %s\n' "$*" >&2; }
cd "$root"

[[ "$(uname -m)" == "x86_64" ]] || { say "build on x86-64: the GPU machine runs this machine's node binary"; exit 1; }
node_bin="$(node -p process.execPath)"
ort="node_modules/onnxruntime-node"
ort_bin="$ort/bin/napi-v6/linux/x64"
for f in "$ort_bin/onnxruntime_binding.node" "$ort_bin/libonnxruntime.so.1" node_modules/onnxruntime-common/package.json; do
  [[ -f "$f" ]] || { say "$f is missing: run npm install first"; exit 1; }
done

# Only libraries every glibc x86-64 Linux has may be needed (checked on node and on onnxruntime's libraries).
allowed='^(linux-vdso\.so\.1|libc\.so\.6|libm\.so\.6|libdl\.so\.2|libpthread\.so\.0|librt\.so\.1|libstdc\+\+\.so\.6|libgcc_s\.so\.1|/lib64/ld-linux-x86-64\.so\.2|libonnxruntime\.so\.1)$'
for f in "$node_bin" "$ort_bin/onnxruntime_binding.node" "$ort_bin/libonnxruntime.so.1"; do
  extra="$(ldd "$f" | awk '{print $1}' | grep -Ev "$allowed" || true)"
  [[ -z "$extra" ]] || { say "$f needs libraries a plain glibc machine may lack: $extra"; exit 1; }
done
glibc="$(objdump -T "$node_bin" "$ort_bin/libonnxruntime.so.1" | grep -oE 'GLIBC_[0-9.]+' | sort -uV | tail -n 1)"
say "node $("$node_bin" --version) at $node_bin needs at most $glibc"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
app="$stage/app"
mkdir -p "$app/bin" "$app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64" "$app/node_modules/onnxruntime-common/dist"

# The CLI in one CommonJS file, bundled as `npm start` bundles the app (import.meta.url from the bundle's path).
bundle=(--bundle --platform=node --target=node20 --format=cjs --inject:src-main/app/import-meta-url.ts --define:import.meta.url=importMetaUrl --external:onnxruntime-node --external:electron --log-level=warning)
npx esbuild src-main/cli/main.ts "${bundle[@]}" --outfile="$app/bench.cjs"
# The WebGPU probe's child process, which the host starts from beside the bundle (host/webgpu-probe.ts).
if [[ -f src-main/host/webgpu-probe-main.ts ]]; then
  npx esbuild src-main/host/webgpu-probe-main.ts "${bundle[@]}" --outfile="$app/webgpu-probe-main.cjs"
fi

cp "$ort/package.json" "$app/node_modules/onnxruntime-node/"
cp -r "$ort/dist" "$app/node_modules/onnxruntime-node/"
cp "$ort_bin/onnxruntime_binding.node" "$ort_bin/libonnxruntime.so.1" "$app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/"
cp node_modules/onnxruntime-common/package.json "$app/node_modules/onnxruntime-common/"
cp -r node_modules/onnxruntime-common/dist/cjs "$app/node_modules/onnxruntime-common/dist/"
find "$app/node_modules" -name '*.map' -delete
# strip keeps .dynsym, which native addons link against; only debug sections and the static symbol table go.
strip --strip-debug -o "$app/bin/node" "$node_bin" 2>/dev/null || cp "$node_bin" "$app/bin/node"
"$app/bin/node" -e 'process.exit(0)' || { say "the stripped node does not start"; exit 1; }

rm -rf "$dest"
mkdir -p "$dest/debs"
say "compressing (xz -9) …"
tar -C "$stage" -cf - app | xz -9 -T0 >"$dest/payload.tar.xz"
cp tools/gpu-bench/run.sh "$dest/run.sh"
chmod +x "$dest/run.sh"

# The Vulkan loader for amd64, as the device README fetches it: from apt's cache, else apt-get download.
deb="$(ls /var/cache/apt/archives/libvulkan1_*_amd64.deb 2>/dev/null | head -n 1 || true)"
if [[ -n "$deb" ]]; then
  cp "$deb" "$dest/debs/"
else
  lists="$(mktemp -d)"
  opts=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists="$lists" -oDebug::NoLocking=1)
  mkdir -p "$lists/partial"
  apt-get "${opts[@]}" update >/dev/null
  (cd "$dest/debs" && apt-get "${opts[@]}" download libvulkan1)
  rm -rf "$lists"
fi

{
  echo "Tessera GPU bench bundle, built $(date -u +%Y-%m-%dT%H:%M:%SZ) from $(git rev-parse --short HEAD 2>/dev/null || echo 'no git')$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "node $("$node_bin" --version) (needs $glibc), onnxruntime-node $(node -p "require('./$ort/package.json').version")"
  (cd "$dest" && find . -type f ! -name MANIFEST.txt -printf '%s\t%p\n' | sort -k2)
} >"$dest/MANIFEST.txt"

bytes="$(du -sb "$dest" | cut -f1)"
mib="$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')"
cat "$dest/MANIFEST.txt" >&2
if ((bytes > limit_mib * 1048576)); then
  say "the bundle is $mib MiB, over the $limit_mib MiB limit"; exit 1
fi
say "bundle $dest: $mib MiB (limit $limit_mib MiB)"
