# Finds every dependency once, so the library, the tools and the tests agree on them.
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
if(CINEDIFF_OPENMP)
  find_package(OpenMP REQUIRED COMPONENTS CXX)
endif()

# Thrust: the CUDA toolkit's CCCL copy when a toolkit is present, Debian's libthrust-dev otherwise,
# never both. On the host the device system is OpenMP (or CPP without OpenMP), so the same
# functors that nvcc compiles for the GPU run on the CPU.
find_package(CUDAToolkit QUIET)
set(CINEDIFF_THRUST_INCLUDE_DIR "" CACHE PATH "Folder that holds thrust/ and cub/ (found automatically)")
if(NOT CINEDIFF_THRUST_INCLUDE_DIR)
  if(CUDAToolkit_FOUND AND EXISTS "${CUDAToolkit_INCLUDE_DIRS}/cccl/thrust/version.h")
    set(CINEDIFF_THRUST_INCLUDE_DIR "${CUDAToolkit_INCLUDE_DIRS}/cccl" CACHE PATH "" FORCE)
  elseif(EXISTS "/usr/include/thrust/version.h")
    set(CINEDIFF_THRUST_INCLUDE_DIR "/usr/include" CACHE PATH "" FORCE)
  else()
    message(FATAL_ERROR "cinediff: no Thrust found. Run scripts/install-deps (installs libthrust-dev) "
                        "or install the CUDA toolkit.")
  endif()
endif()
add_library(cinediff_thrust INTERFACE)
target_include_directories(cinediff_thrust SYSTEM INTERFACE "$<BUILD_INTERFACE:${CINEDIFF_THRUST_INCLUDE_DIR}>")
# C++ sources only: nvcc-compiled (.cu) sources keep Thrust's default device system, CUDA.
if(CINEDIFF_OPENMP)
  target_compile_definitions(cinediff_thrust INTERFACE $<$<COMPILE_LANGUAGE:CXX>:THRUST_DEVICE_SYSTEM=THRUST_DEVICE_SYSTEM_OMP>)
else()
  target_compile_definitions(cinediff_thrust INTERFACE $<$<COMPILE_LANGUAGE:CXX>:THRUST_DEVICE_SYSTEM=THRUST_DEVICE_SYSTEM_CPP>)
endif()

# CUDA: AUTO turns on when nvcc is found.
set(CINEDIFF_WITH_CUDA OFF)
if(NOT CINEDIFF_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    # Ampere (A100) machine code, Hopper (H100/H200) machine code plus PTX that newer GPUs JIT.
    # A user's -DCMAKE_CUDA_ARCHITECTURES=... or CUDAARCHS environment variable wins.
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES AND NOT DEFINED ENV{CUDAARCHS})
      set(CMAKE_CUDA_ARCHITECTURES "80-real;90" CACHE STRING "CUDA architectures to build for")
    endif()
    enable_language(CUDA)
    set(CINEDIFF_WITH_CUDA ON)
  elseif(CINEDIFF_CUDA STREQUAL "ON")
    message(FATAL_ERROR "cinediff: CINEDIFF_CUDA=ON but no CUDA compiler was found")
  endif()
endif()
message(STATUS "cinediff: Thrust from ${CINEDIFF_THRUST_INCLUDE_DIR}; CUDA translation units: ${CINEDIFF_WITH_CUDA}")
