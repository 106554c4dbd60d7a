// Compiled with one layer's include path: PCJ_PROBE_HEADER names a header of a layer above it,
// which must not be found, or (the control) one the layer may use, which must be.
#include PCJ_PROBE_HEADER
