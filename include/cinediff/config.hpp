#pragma once

// The only header that defines macros. Everything here is a portability switch; none of them
// changes the API: a function exists with the same signature on every backend.

#if defined(__CUDACC__)
#define CINEDIFF_HOST_DEVICE __host__ __device__
#else
#define CINEDIFF_HOST_DEVICE
#endif

#if defined(__GNUC__) || defined(__clang__)
#define CINEDIFF_FORCEINLINE inline __attribute__((always_inline))
#define CINEDIFF_RESTRICT __restrict__
#else
#define CINEDIFF_FORCEINLINE inline
#define CINEDIFF_RESTRICT
#endif

// OpenMP pragmas are spelled through _Pragma so that a build without OpenMP compiles the same
// source without "unknown pragma" warnings.
#if defined(_OPENMP)
#define CINEDIFF_OMP(text) _Pragma(#text)
#else
#define CINEDIFF_OMP(text)
#endif
