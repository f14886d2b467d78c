#!/usr/bin/env bash
# Tessera GPU benchmark, self-contained (built by tools/gpu-bench/pack.sh into .gpu-bench/). Runs on a plain
# x86-64 glibc Linux machine with Python or xz but no Node and no network: it unpacks the carried Node binary,
# the CLI bundle and onnxruntime-node, uses the system's Vulkan loader or the carried libvulkan1 deb, finds the NVIDIA
# Vulkan driver, and runs `bench-gpu`. Reports (report.json, report.md, run.log) go to $OUT, else ./bench-gpu-report.
#
# usage: bash .gpu-bench/run.sh [--out DIR] [bench-gpu options…]   e.g. --tiny, --devices cpu, --gpu-budget-s 200
# Environment: GPU_BENCH_WORK=DIR unpacks there and keeps it (packs are reused on the next run); VK_DRIVER_FILES or
# VK_ICD_FILENAMES set by the caller are kept (e.g. a software adapter for a local test).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
say() { printf 'run.sh: %s\n' "$*" >&2; }

out="${OUT:-$PWD/bench-gpu-report}"
args=()
while (($# > 0)); do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --out=*) out="${1#--out=}"; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
mkdir -p "$out"
out="$(cd "$out" && pwd)"

if [[ -n "${GPU_BENCH_WORK:-}" ]]; then
  work="$GPU_BENCH_WORK"
  mkdir -p "$work"
else
  work="$(mktemp -d "${TMPDIR:-/tmp}/tessera-gpu-bench.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
fi

# 1. The payload: node, the CLI bundle, onnxruntime-node (xz when there is one, else Python's lzma).
if [[ ! -x "$work/app/bin/node" ]]; then
  if command -v xz >/dev/null 2>&1 && command -v tar >/dev/null 2>&1; then
    xz -dc "$HERE/payload.tar.xz" | tar -x -C "$work"
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1], "r:xz").extractall(sys.argv[2])' "$HERE/payload.tar.xz" "$work"
  else
    say "neither xz nor python3 is here to unpack payload.tar.xz"; exit 1
  fi
fi
node="$work/app/bin/node"
if ldd "$node" 2>&1 | grep -q 'not found'; then
  say "the carried node binary misses libraries on this machine:"; ldd "$node" >&2; exit 1
fi

# 2. The Vulkan loader: the system's when ldconfig knows one, else the carried deb unpacked here (never into /).
libpath=""
if ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then
  say "Vulkan loader: the system's"
else
  root="$work/vulkan-root"
  if [[ ! -d "$root" ]]; then
    mkdir -p "$root"
    for deb in "$HERE"/debs/*.deb; do
      if command -v dpkg >/dev/null 2>&1; then
        dpkg -x "$deb" "$root"
      else
        # A .deb is an ar archive; its data.tar.* member holds the files.
        python3 - "$deb" "$root" <<'PY'
import io, sys, tarfile
data = open(sys.argv[1], 'rb').read()
at = 8
while at < len(data):
    name = data[at:at + 16].decode().strip().rstrip('/')
    size = int(data[at + 48:at + 58].decode().strip())
    body = data[at + 60:at + 60 + size]
    if name.startswith('data.tar'):
        tarfile.open(fileobj=io.BytesIO(body)).extractall(sys.argv[2])
    at += 60 + size + (size & 1)
PY
      fi
    done
  fi
  libpath="$(find "$root" -name 'libvulkan.so.1' -printf '%h\n' | head -n 1)"
  [[ -n "$libpath" ]] || { say "the carried debs hold no libvulkan.so.1"; exit 1; }
  say "Vulkan loader: carried ($libpath)"
fi
for dir in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
  [[ -d "$dir" ]] && libpath="${libpath:+$libpath:}$dir"
done
export LD_LIBRARY_PATH="${libpath}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# 3. The NVIDIA Vulkan driver (ICD), unless the caller chose drivers.
if [[ -z "${VK_DRIVER_FILES:-}" && -z "${VK_ICD_FILENAMES:-}" ]]; then
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json; do
    if [[ -f "$icd" ]]; then
      export VK_DRIVER_FILES="$icd" VK_ICD_FILENAMES="$icd"
      break
    fi
  done
fi
say "Vulkan drivers: ${VK_DRIVER_FILES:-${VK_ICD_FILENAMES:-the loader default (no NVIDIA ICD found)}}"

# 4. WebGPU (Dawn) wants a private runtime folder.
export XDG_RUNTIME_DIR="$work/xdg"
mkdir -p "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"

if command -v nvidia-smi >/dev/null 2>&1; then nvidia-smi >&2 || true; else say "no nvidia-smi here"; fi
say "node $("$node" --version), work folder $work, reports to $out"

set +e
"$node" "$work/app/bench.cjs" bench-gpu --out "$out" --cache "$work/packs" "${args[@]}" 2>&1 | tee "$out/run.log"
status=${PIPESTATUS[0]}
set -e
exit "$status"
