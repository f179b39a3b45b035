# Our own targets (tests, tools, benchmarks, compiled components) build warning-free.
add_library(cinediff_warnings INTERFACE)
target_compile_options(cinediff_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor>
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${CINEDIFF_WERROR}>>:-Werror>)
if(CINEDIFF_NATIVE)
  target_compile_options(cinediff_warnings INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-march=native>)
  # GCC 12's AVX-512 intrinsics (_mm256_undefined_pd() as `__Y = __Y`) raise false
  # -W(maybe-)uninitialized warnings once Eigen's packet code is inlined: GCC PR 105593.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(cinediff_warnings INTERFACE
      $<$<COMPILE_LANGUAGE:CXX>:-Wno-maybe-uninitialized -Wno-uninitialized>)
  endif()
endif()
