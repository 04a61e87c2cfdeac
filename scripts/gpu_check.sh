#!/usr/bin/env bash
# The checks to run on a machine with a real GPU (docs/gpu.md), each under its own time limit, every output
# kept in OUT_DIR (default gpu_check_out/): the adapter's description, the whole test suite with the adapter
# required, the benchmarks as JSON, and the PyTorch peer of the training-step benchmarks when python3 has torch
# and transformers with CUDA.
#
#   bash scripts/gpu_check.sh                  # all steps
#   STEPS="tests bench" BENCH_FILTER=matmul,attention_fwd_bwd bash scripts/gpu_check.sh
#
# BENCH_FILTER: comma-separated texts, the cases whose names contain one of them. bench.json is rewritten after
# each case, so a bench step cut short by its limit keeps what it finished.
#
# Limits (seconds): TESTS_LIMIT (default 300), BENCH_LIMIT (900), PEER_LIMIT (300).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT_DIR=${OUT_DIR:-gpu_check_out}
mkdir -p "$OUT_DIR"
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
STEPS=${STEPS:-info tests bench peer}

step() {
  local name=$1 limit=$2
  shift 2
  local t0=$SECONDS
  echo "=== $name (limit $limit s)"
  timeout "$limit" "$@" >"$OUT_DIR/$name.log" 2>&1
  local rc=$?
  echo "=== $name: exit $rc after $((SECONDS - t0)) s; log in $OUT_DIR/$name.log"
  tail -n 12 "$OUT_DIR/$name.log"
  return $rc
}

for s in $STEPS; do
  case $s in
    info)
      step info 60 deno eval 'import { requestGpu } from "./src/gpu/device.ts";
        const g = await requestGpu(); const d = g.description;
        console.log(JSON.stringify({ name: d.name, kind: d.kind, vendor: d.vendor, features: d.features,
          maxStorageBufferBindingSize: d.limits.maxStorageBufferBindingSize })); g.destroy();' || exit 1
      grep -q '"kind":"hardware"' "$OUT_DIR/info.log" || echo "warning: the adapter is not a hardware GPU"
      ;;
    tests) REQUIRE_GPU=1 step tests "${TESTS_LIMIT:-300}" deno test -A --parallel tests/ ;;
    bench)
      step bench "${BENCH_LIMIT:-900}" deno task bench ${BENCH_FILTER:+--filter "$BENCH_FILTER"} \
        --json "$OUT_DIR/bench.json"
      ;;
    peer)
      if python3 -c 'import torch, transformers, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
        step peer "${PEER_LIMIT:-300}" python3 scripts/torch_peer_step.py --device cuda --json "$OUT_DIR/peer_cuda.json"
      else
        echo "=== peer: skipped (no python3 with torch, transformers and CUDA)"
      fi
      ;;
    *) echo "unknown step '$s' (steps: info tests bench peer)" && exit 2 ;;
  esac
done
