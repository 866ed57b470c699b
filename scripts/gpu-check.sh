#!/usr/bin/env bash
# Issue #7's one-call check on the GPU machine (an H200 with no Node.js and no network; see
# /work/shared/ANCHORS.md). Run from the repository root after scripts/gpu-pack.sh, carrying out/gpu:
#   1. unpacks Node (out/gpu/node.xz) and build/ + koffi (out/gpu/bundle.tar.xz), with xz or Python;
#   2. points needle at the driver, NVRTC and cuBLAS (NEEDLE_LIBCUDA / NEEDLE_NVRTC / NEEDLE_CUBLAS);
#   3. prints the device and runs the cuda tests (test/cuda_device.test.ts: kernel parity with the
#      cpu reference, large sizes, memory flat over epochs, dispose, TF32);
#   4. runs the test suite with NEEDLE_DEVICE=cuda (needs src/index.ts to register cuda);
#   5. runs bench/cuda.ts: the four targets and PyTorch in the same call, and prints the table.
# Each phase has its own time limit (120 + 200 + 200 s by default, under the 600 s of one device
# call with the unpacking), so a slow phase cannot take the others' results with it.
# Everything it prints is also saved under $OUT (default out/gpu-results).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/out/gpu-results}
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu-check.log") 2>&1
PY=${NEEDLE_TORCH_PYTHON:-/opt/torch/.venv/bin/python}
SITE=${NEEDLE_NVIDIA_LIB:-/opt/torch/.venv/lib/python3.12/site-packages/nvidia/cu13/lib}
T_DEVICE=${GPU_CHECK_DEVICE_TIMEOUT:-120}
T_SUITE=${GPU_CHECK_SUITE_TIMEOUT:-200}
T_BENCH=${GPU_CHECK_BENCH_TIMEOUT:-200}
start=$(date +%s)
phase() { echo; echo "=== $* ($(( $(date +%s) - start )) s)"; }

unxz_to() {  # file.xz -> file
  if command -v xz >/dev/null; then xz -dc "$1" > "$2"
  else "$PY" -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"; fi
}

phase "1. Node and the bundle"
if command -v node >/dev/null && node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)'; then
  NODE=$(command -v node)
elif [ -f out/gpu/node.xz ]; then
  mkdir -p /tmp/needle-node && unxz_to out/gpu/node.xz /tmp/needle-node/node && chmod +x /tmp/needle-node/node
  NODE=/tmp/needle-node/node
else
  echo "no Node.js and no out/gpu/node.xz: run scripts/gpu-pack.sh and carry out/gpu"; exit 1
fi
export PATH="$(dirname "$NODE"):$PATH"
echo "node $(node --version) at $NODE"
if [ -f out/gpu/bundle.tar.xz ]; then
  if command -v xz >/dev/null; then tar -xJf out/gpu/bundle.tar.xz
  else "$PY" -c 'import tarfile, sys; tarfile.open(sys.argv[1]).extractall(".")' out/gpu/bundle.tar.xz; fi
fi
[ -f build/src/platform/cuda.js ] || { echo "build/ is missing (out/gpu/bundle.tar.xz)"; exit 1; }

phase "2. libraries"
[ -e /usr/local/nvidia/lib64/libcuda.so.1 ] && export NEEDLE_LIBCUDA=/usr/local/nvidia/lib64/libcuda.so.1
[ -e "$SITE/libnvrtc.so.13" ] && export NEEDLE_NVRTC="$SITE/libnvrtc.so.13"
[ -e "$SITE/libcublas.so.13" ] && export NEEDLE_CUBLAS="$SITE/libcublas.so.13"
export LD_LIBRARY_PATH="$SITE:/usr/local/nvidia/lib64:${LD_LIBRARY_PATH:-}"
export NEEDLE_CUDA_CACHE=${NEEDLE_CUDA_CACHE:-/tmp/needle-cuda-cache}
export NEEDLE_CUDA_EMU=0
env | grep '^NEEDLE_' | sort
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
node --input-type=module -e "
  const { loadCuda } = await import('./build/src/platform/cuda.js');
  const r = await loadCuda();
  console.log(r.backend ? JSON.stringify(r.runtime.describe()) : 'UNAVAILABLE: ' + r.reason);
  console.log(JSON.stringify(r.libraries));
  process.exit(r.backend ? 0 : 3);
" || { echo "cuda is unavailable: nothing else can run"; exit 3; }

phase "3. cuda tests (parity with the reference, memory, dispose)"
timeout "$T_DEVICE" node --test --test-reporter=spec build/test/cuda_device.test.js build/test/cuda.test.js > "$OUT/cuda-tests.log" 2>&1
echo "exit $?"; grep -E '^# |^ℹ (tests|pass|fail)|✖' "$OUT/cuda-tests.log" | head -60

phase "4. the test suite on NEEDLE_DEVICE=cuda"
if node --input-type=module -e "const nd = await import('./build/src/index.js'); process.exit(nd.listDevices().includes('cuda') ? 0 : 1)"; then
  # tests that need packages or tools the GPU machine lacks (browsers, bundlers, datasets, g++)
  files=$(ls build/test/*.test.js | grep -v -E '/(browser|bundle|cli|cli_tasks|datasets|data|cuda_emu)\.test\.js$')
  NEEDLE_DEVICE=cuda timeout "$T_SUITE" node --test --test-reporter=spec $files > "$OUT/suite.log" 2>&1
  echo "exit $?"; grep -E '^ℹ (tests|pass|fail|cancelled)' "$OUT/suite.log"; grep -E '^\s*✖' "$OUT/suite.log" | sort | uniq | head -40
else
  echo "SKIPPED: build/src/index.js does not register cuda (apply the set-up lines in docs/cuda.md)"
fi

phase "5. benchmarks (needle-ts and PyTorch)"
timeout "$T_BENCH" node build/bench/cuda.js --python="$PY" --json="$OUT/bench.json" 2>&1 | tee "$OUT/bench.txt"
echo "exit ${PIPESTATUS[0]}"
phase "done"
