#!/usr/bin/env bash
# Every check a GPU session owes, in one command (docs/kernels.md): the GPU tests, the kernel benchmark
# in fp32 and bf16, and a short run of each GPU-scale recipe with its fused-kernel launches counted.
# Logs and JSON go to $OUT (default /tmp/gpu-check). Each part has its own time cap so one hang cannot
# eat the session's GPU time.
#   bash tools/gpu_check.sh
set -u
OUT=${OUT:-/tmp/gpu-check}
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
LOG="$OUT/gpu-check.log"
part() {  # part NAME SECONDS COMMAND...
  local name=$1 cap=$2; shift 2
  echo "=== $name (cap ${cap}s): $*" >>"$LOG"
  local t0=$SECONDS
  timeout "$cap" "$@" >>"$LOG" 2>&1
  echo "=== $name: exit $? after $((SECONDS - t0))s" >>"$LOG"
}
part env 20 bash -c 'nvidia-smi; python3 -c "import torch, triton, lightning; print(torch.__version__, triton.__version__, lightning.__version__, torch.cuda.get_device_name())"'
part gpu-tests 110 python3 -m pytest tests/triton_kernels -m gpu -q -p no:cacheprovider
part kernels-fp32 100 python3 -m benchmarks.kernels --out "$OUT/kernels-fp32.json"
part kernels-bf16 50 python3 -m benchmarks.kernels --dtype bfloat16 --no-compile --out "$OUT/kernels-bf16.json"
part recipes 270 python3 -m tools.gpu_check --out "$OUT" --max-seconds 50
rm -rf "$OUT/runs"
grep "^=== .*exit" "$LOG"
