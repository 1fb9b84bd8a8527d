#!/usr/bin/env bash
# The GPU check of issue 10, in one script that fits in about 6 minutes on a fresh H100/H200
# machine with CuPy 14.2, numba-cuda and torch 2.11 for CUDA 13 installed, and no network.
#
#   benchmarks/gpu_check.sh [MNIST_DIR]
#
# MNIST_DIR (default benchmarks/gpu_data/mnist, git-ignored) holds the four MNIST IDX .gz files
# (5.3 MB); they travel in the working tree, e.g.
#   mkdir -p benchmarks/gpu_data/mnist && cp ../shared/data/mnist/*.gz benchmarks/gpu_data/mnist/
#
# Steps (each under its own time limit; a failed step is reported and the others still run):
#   1. versions and nvidia-smi
#   2. the gpu-marked tests (our CUDA C kernels under CuPy/NVRTC, the Numba CUDA kernels)
#   3. a float32 training-iteration parity check, CPU vs GPU, from the same weights
#   4. 50 steps of python -m wgan.train --backend cupy on MNIST
#   5. python -m benchmarks.step --backend cupy: minigrad on CuPy vs PyTorch CUDA eager,
#      TF32 off on both (NVIDIA_TF32_OVERRIDE=0, CUPY_TF32=0, torch's allow_tf32 flags)
# Everything is written to benchmarks/results/gpu_check_<device>_<UTC time>/ (log.txt, the
# versions, parity.json, the training run, the benchmark's tables); the exit status is the
# number of failed steps.
set -uo pipefail
cd "$(dirname "$0")/.."
MNIST_DIR=${1:-benchmarks/gpu_data/mnist}
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
export NVIDIA_TF32_OVERRIDE=0 CUPY_TF32=0 PYTHONUNBUFFERED=1

device=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
slug=$(printf '%s' "${device:-no-gpu}" | tr '[:upper:] ' '[:lower:]-' | tr -cd '[:alnum:]-')
out=benchmarks/results/gpu_check_${slug}_$(date -u +%Y-%m-%dT%H%M%SZ)
mkdir -p "$out"
exec > >(tee "$out/log.txt") 2>&1
failed=0

step() {  # step NAME SECONDS COMMAND...: run COMMAND under a time limit, report how it ended
    local name=$1 limit=$2 start=$SECONDS
    shift 2
    echo "=== $name (limit ${limit}s): $*"
    timeout --kill-after=10 "$limit" "$@"
    local status=$?
    if [ "$status" -eq 0 ]; then
        echo "=== $name: ok in $((SECONDS - start))s"
    else
        echo "=== $name: FAILED (status $status$([ "$status" -eq 124 ] && echo ', time limit') ) after $((SECONDS - start))s"
        failed=$((failed + 1))
    fi
}

if [ ! -f "$MNIST_DIR/train-images-idx3-ubyte.gz" ] && [ ! -f "$MNIST_DIR/train-images-idx3-ubyte" ]; then
    echo "no MNIST in $MNIST_DIR (see the top of this script); steps 3 and 4 will fail"
fi

step versions 20 bash -c "set -o pipefail; nvidia-smi | tee '$out/nvidia-smi.txt'; python - <<'PY' | tee '$out/versions.txt'
import platform, importlib
print('python', platform.python_version())
for name in ('numpy', 'cupy', 'numba', 'numba_cuda', 'torch'):
    try:
        module = importlib.import_module(name)
        print(name, getattr(module, '__version__', '?'))
    except Exception as exc:
        print(name, 'NOT IMPORTABLE:', exc)
import cupy, torch, minigrad
print('cupy sees', cupy.cuda.runtime.getDeviceCount(), 'GPU(s);', cupy.cuda.runtime.getDeviceProperties(0)['name'].decode())
print('torch CUDA', torch.version.cuda, torch.cuda.is_available())
print('minigrad.cuda.is_available()', minigrad.cuda.is_available(), minigrad.cuda.device_count())
PY"
step gpu-tests 90 python -m pytest -q -m gpu -p no:cacheprovider tests
step parity 60 python -m benchmarks.gpu_parity --data-dir "$MNIST_DIR" --out "$out/parity.json"
step train-50-steps 75 python -m wgan.train --backend cupy --loss wgan-gp --model wgangp-mnist \
    --data-dir "$MNIST_DIR" --iters 50 --log-every 25 --sample-every 50 --checkpoint-every 50 \
    --quiet --out "$out/train_wgangp_mnist"
step benchmark-step 100 python -m benchmarks.step --backend cupy --quick --no-memory \
    --machine-kind "gpu-$slug" --out "$out"

echo "=== $failed step(s) failed; results in $out"
exit "$failed"
