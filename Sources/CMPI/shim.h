#ifndef FINGPT_CMPI_SHIM_H
#define FINGPT_CMPI_SHIM_H
#include <mpi.h>

/* Open MPI's predefined handles are macros over global symbols that Swift cannot import. */
static inline MPI_Comm fingpt_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype fingpt_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype fingpt_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype fingpt_mpi_int(void) { return MPI_INT; }
static inline MPI_Datatype fingpt_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Op fingpt_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op fingpt_mpi_max(void) { return MPI_MAX; }
static inline MPI_Errhandler fingpt_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline MPI_Request fingpt_mpi_request_null(void) { return MPI_REQUEST_NULL; }
static inline MPI_Status *fingpt_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline int fingpt_mpi_success(void) { return MPI_SUCCESS; }
static inline int fingpt_mpi_any_source(void) { return MPI_ANY_SOURCE; }
#endif
