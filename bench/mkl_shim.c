/* LD_PRELOAD shim: makes Intel MKL treat any x86 CPU (e.g. AMD) as an Intel CPU, so it picks
 * its best code path for the ISA present (AVX2 / AVX-512 kernels) instead of a generic one.
 * Built by bench/train_bench.sh into bench/.work/libmklshim.so (gcc -shared -fPIC). */
int mkl_serv_intel_cpu_true(void) { return 1; }
