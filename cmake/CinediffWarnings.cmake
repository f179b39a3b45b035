# Our own targets (tests, tools, benchmarks, compiled components) build warning-free.
add_library(cinediff_warnings INTERFACE)
target_compile_options(cinediff_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor>
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${CINEDIFF_WERROR}>>:-Werror>)
if(CINEDIFF_NATIVE)
  target_compile_options(cinediff_warnings INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-march=native>)
endif()
