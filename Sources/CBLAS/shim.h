#ifndef FINGPT_CBLAS_SHIM_H
#define FINGPT_CBLAS_SHIM_H
#include <cblas.h>

/* LAPACK (Fortran ABI, shipped inside libopenblas): single-precision SVD by divide and conquer. */
void sgesdd_(const char *jobz, const int *m, const int *n, float *a, const int *lda,
             float *s, float *u, const int *ldu, float *vt, const int *ldvt,
             float *work, const int *lwork, int *iwork, int *info);

/* OpenBLAS threading controls. */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_corename(void);
char *openblas_get_config(void);

#include <dlfcn.h>

/* Restarts OpenBLAS's worker threads so that they pick up the current environment (in particular
   OPENBLAS_THREAD_TIMEOUT, how long an idle worker spins before it sleeps, which the library reads
   only when it starts its threads). Looked up at run time: the entry points belong to the pthreads
   build of OpenBLAS; returns 0 (changing nothing) when they are missing. Call it only while no
   BLAS call is running. */
static inline int fingpt_openblas_restart_threads(void) {
    void *self = dlopen(NULL, RTLD_LAZY);
    if (!self) return 0;
    void (*read_env)(void) = (void (*)(void))dlsym(self, "openblas_read_env");
    int (*shutdown)(void) = (int (*)(void))dlsym(self, "blas_thread_shutdown_");
    int (*init)(void) = (int (*)(void))dlsym(self, "blas_thread_init");
    int done = 0;
    if (read_env && shutdown && init) {
        read_env();
        shutdown();
        init();
        done = 1;
    }
    dlclose(self);
    return done;
}
#endif
