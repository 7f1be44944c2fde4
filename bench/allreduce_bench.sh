#!/usr/bin/env bash
# All-reduce latency and bandwidth for float buffers of 4 KB .. 64 MB (x4 steps) over Open MPI.
#
# Builds the self-test in release mode and runs `mpirun -np $RANKS fingpt-mpi-selftest bench`, which
# times a blocking in-place sum all-reduce through Distributed's MPICommunicator (non-blocking MPI call
# polled with timeout and peer-exit checks) and, for comparison, a direct blocking MPI_Allreduce.
# Each call is preceded by a barrier; the table gives the median and minimum per-call time, the
# algorithm bandwidth (bytes / time) and the bus bandwidth (algbw * 2(n-1)/n).
#
# Environment (all optional):
#   RANKS=2                          number of MPI processes
#   SCRATCH=.build                   SwiftPM scratch path (binary: $SCRATCH/release/fingpt-mpi-selftest)
#   BENCH_SKIP_BUILD=1               use the binary as built
#   MPIRUN_OPTIONS="--bind-to none"  extra mpirun options
set -eu -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
RANKS=${RANKS:-2}
SCRATCH=${SCRATCH:-.build}
BINARY="$SCRATCH/release/fingpt-mpi-selftest"

command -v mpirun >/dev/null || { echo "mpirun not found: install openmpi-bin (make setup-system)" >&2; exit 1; }
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  swift build -c release --scratch-path "$SCRATCH" --product fingpt-mpi-selftest
fi
[ -x "$BINARY" ] || { echo "missing $BINARY" >&2; exit 1; }

if [ "$(id -u)" = 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ)  $(mpirun --version | head -1)  ranks=$RANKS  cores=$(nproc)  load=$(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck disable=SC2086
mpirun -np "$RANKS" --oversubscribe ${MPIRUN_OPTIONS:-} "$BINARY" bench 2>&1 | grep -v "PMIX ERROR"
