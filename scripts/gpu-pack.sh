#!/usr/bin/env bash
# Packs what scripts/gpu-check.sh needs on the GPU machine, which has no Node.js and no network:
#   out/gpu/node.xz         this machine's Node binary (an official linux-x64 build), xz-compressed
#   out/gpu/bundle.tar.xz   build/ (the tsc output: src, test, bench) and koffi's packages
# out/ is ignored by git: the device call carries it, e.g. run(command="bash scripts/gpu-check.sh",
# carry=["out/gpu"]). Run after `npx tsc -p tsconfig.json` (node tools/build_wasm.mjs first if the
# wasm kernels changed). About 30 MB in all.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/src/platform/cuda.js ] || { echo "build/ is missing: run npx tsc -p tsconfig.json first" >&2; exit 1; }
mkdir -p out/gpu
NODE=$(command -v node)
if [ ! -f out/gpu/node.xz ] || [ "$NODE" -nt out/gpu/node.xz ]; then
  echo "compressing $NODE ($("$NODE" --version))"
  xz -T1 -6 -c "$NODE" > out/gpu/node.xz.tmp && mv out/gpu/node.xz.tmp out/gpu/node.xz
fi
mods=$(ls -d node_modules/koffi node_modules/@koromix/koffi-linux-x64 2>/dev/null)
tar --exclude=build/artifacts -cJf out/gpu/bundle.tar.xz build $mods
ls -la out/gpu
