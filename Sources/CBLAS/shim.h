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
#endif
