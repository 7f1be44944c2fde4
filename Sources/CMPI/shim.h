#ifndef FINGPT_CMPI_SHIM_H
#define FINGPT_CMPI_SHIM_H
#include <mpi.h>

/* Open MPI's predefined handles and pointer-valued constants are macros over global symbols or casts,
   which Swift cannot import; these accessors hand them to Swift. */
static inline MPI_Comm fingpt_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Comm fingpt_mpi_comm_null(void) { return MPI_COMM_NULL; }
static inline MPI_Datatype fingpt_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype fingpt_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype fingpt_mpi_int(void) { return MPI_INT; }
static inline MPI_Datatype fingpt_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype fingpt_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Op fingpt_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op fingpt_mpi_max(void) { return MPI_MAX; }
static inline MPI_Errhandler fingpt_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline MPI_Request fingpt_mpi_request_null(void) { return MPI_REQUEST_NULL; }
static inline MPI_Status *fingpt_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline void *fingpt_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline int fingpt_mpi_success(void) { return MPI_SUCCESS; }
static inline int fingpt_mpi_any_source(void) { return MPI_ANY_SOURCE; }
static inline int fingpt_mpi_undefined(void) { return MPI_UNDEFINED; }
static inline int fingpt_mpi_err_truncate(void) { return MPI_ERR_TRUNCATE; }
static inline int fingpt_mpi_err_in_status(void) { return MPI_ERR_IN_STATUS; }
static inline int fingpt_mpi_err_pending(void) { return MPI_ERR_PENDING; }
static inline int fingpt_mpi_thread_serialized(void) { return MPI_THREAD_SERIALIZED; }
static inline int fingpt_mpi_max_processor_name(void) { return MPI_MAX_PROCESSOR_NAME; }
static inline int fingpt_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
static inline int fingpt_mpi_tag_ub_key(void) { return MPI_TAG_UB; }

/* The largest tag value the library accepts on this communicator (MPI guarantees at least 32767);
   returns -1 when the attribute cannot be read. */
static inline int fingpt_mpi_tag_upper_bound(MPI_Comm comm) {
    int *value = 0;
    int found = 0;
    if (MPI_Comm_get_attr(comm, MPI_TAG_UB, &value, &found) != MPI_SUCCESS || !found || value == 0) return -1;
    return *value;
}
#endif
