#!/usr/bin/env bash
# Builds llama.cpp's CPU binaries (llama-bench, llama-completion, llama-simple, ...) and shared libraries
# for the inference benchmark (bench/inference_bench.sh) and the reference-logits cross-check
# (dev/make_smollm2_reference.py --llama-cpp).
#
# llama.cpp itself comes from PyPI: the source sdist of llama-cpp-python vendors it under
# vendor/llama.cpp. Nothing else is downloaded.
#
#   bash bench/build_llamacpp.sh            # idempotent: does nothing when already built
#   LLAMACPP_FORCE=1 bash bench/build_llamacpp.sh    # rebuild
#
# Environment (optional):
#   LLAMA_CPP_PYTHON_VERSION=0.3.36   sdist version (pinned; builds with Debian 12's gcc 12.2)
#   LLAMACPP_JOBS=2                   parallel compile jobs
#
# Result (all under bench/.work/, which is git-ignored):
#   bench/.work/llama-cpp-python-<ver>/          unpacked sdist (Python bindings in llama_cpp/)
#   bench/.work/llama.cpp-build/bin/llama-bench  llama-completion  llama-simple  llama-perplexity
#   bench/.work/llama.cpp-build/bin/libllama.so libggml*.so   (BUILD_SHARED_LIBS=ON; the binaries use RPATH)
#   bench/.work/llama.cpp-build/BUILD_INFO       version, cmake flags, compiler
# To use the Python bindings without building the wheel again:
#   PYTHONPATH=bench/.work/llama-cpp-python-<ver> LLAMA_CPP_LIB_PATH=bench/.work/llama.cpp-build/bin python3 -c 'import llama_cpp'
# (needs `pip install diskcache jinja2` besides numpy and typing-extensions).
# Takes about 4-5 minutes on the 2-core machine.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
WORK=bench/.work
VER=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
JOBS=${LLAMACPP_JOBS:-$(nproc)}
SRC=$WORK/llama-cpp-python-$VER
BUILD=$WORK/llama.cpp-build
BIN=$BUILD/bin
# llama-cli is built only with the server (LLAMA_BUILD_SERVER) in this llama.cpp; llama-completion is the
# classic command-line generator that llama-cli used to be.
TARGETS="llama-bench llama-completion llama-cli llama-simple llama-perplexity llama"
REQUIRED="llama-bench llama-simple llama-completion"

mkdir -p "$WORK"

have_all=1
for b in $REQUIRED; do [ -x "$BIN/$b" ] || have_all=0; done
if [ "${LLAMACPP_FORCE:-0}" != 1 ] && [ $have_all = 1 ] \
   && [ -f "$BUILD/BUILD_INFO" ] && grep -q "llama-cpp-python $VER" "$BUILD/BUILD_INFO"; then
    echo "build_llamacpp: already built ($(head -1 "$BUILD/BUILD_INFO")) in $BIN"
    exit 0
fi

# 1. compilers and cmake
missing=""
command -v cmake >/dev/null 2>&1 || missing="$missing cmake"
{ command -v g++ >/dev/null 2>&1 && command -v make >/dev/null 2>&1; } || missing="$missing build-essential"
if [ -n "$missing" ]; then
    echo "build_llamacpp: installing:$missing"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi

# 2. the sdist (vendors llama.cpp)
if [ ! -d "$SRC/vendor/llama.cpp" ]; then
    sdist=$(ls "$WORK"/llama_cpp_python-"$VER".tar.gz 2>/dev/null || true)
    if [ -z "$sdist" ]; then
        python3 -m pip download --no-deps --no-binary :all: -q -d "$WORK" "llama-cpp-python==$VER"
        sdist=$(ls "$WORK"/llama_cpp_python-"$VER".tar.gz)
    fi
    echo "build_llamacpp: unpacking $sdist"
    tar -xzf "$sdist" -C "$WORK"
    [ -d "$SRC" ] || mv "$WORK/llama_cpp_python-$VER" "$SRC"
fi
LLAMA_SRC=$SRC/vendor/llama.cpp
[ -f "$LLAMA_SRC/CMakeLists.txt" ] || { echo "build_llamacpp: no llama.cpp in $SRC/vendor" >&2; exit 1; }

# 3. configure and build (CPU only, native ISA: AVX2/FMA/F16C on this Zen3, no AVX-512)
FLAGS=(-DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DGGML_CUDA=OFF -DGGML_METAL=OFF -DGGML_VULKAN=OFF
       -DGGML_OPENMP=ON -DBUILD_SHARED_LIBS=ON -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF
       -DLLAMA_BUILD_EXAMPLES=ON -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=OFF)
echo "build_llamacpp: cmake ${FLAGS[*]}"
cmake -S "$LLAMA_SRC" -B "$BUILD" "${FLAGS[@]}" >"$WORK/llama.cpp-cmake.log" 2>&1 \
    || { tail -n 30 "$WORK/llama.cpp-cmake.log" >&2; exit 1; }
available_targets=$(cmake --build "$BUILD" --target help 2>/dev/null | sed -n 's/^\.\.\. \([A-Za-z0-9_.-]*\).*/\1/p')
want=()
for t in $TARGETS; do
    if grep -qx "$t" <<<"$available_targets"; then want+=("$t"); fi
done
echo "build_llamacpp: building ${want[*]} with $JOBS jobs (log: $WORK/llama.cpp-build.log)"
start=$(date +%s)
cmake --build "$BUILD" --config Release -j "$JOBS" --target "${want[@]}" >"$WORK/llama.cpp-build.log" 2>&1 \
    || { tail -n 40 "$WORK/llama.cpp-build.log" >&2; exit 1; }
end=$(date +%s)

for b in $REQUIRED; do
    [ -x "$BIN/$b" ] || { echo "build_llamacpp: $BIN/$b missing after the build" >&2; exit 1; }
done
{
    ggml_so=$(ls "$BIN"/libggml.so.*.*.* 2>/dev/null | head -1)
    echo "llama-cpp-python $VER (vendored llama.cpp, ggml ${ggml_so##*libggml.so.})"
    echo "cmake ${FLAGS[*]}"
    echo "compiler: $(g++ --version | head -1)"
    echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) in $((end - start)) s"
} >"$BUILD/BUILD_INFO"
echo "build_llamacpp: done in $((end - start)) s:"
ls "$BIN"
