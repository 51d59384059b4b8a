# CUDA detection and architectures. Included by the root CMakeLists.txt before project(), because
# project()/enable_language(CUDA) caches nvcc's default architecture otherwise.
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  # sm_80 (A100) and sm_90a (H100/H200, arch-specific features such as wgmma and TMA).
  set(CMAKE_CUDA_ARCHITECTURES "80-real;90a-real" CACHE STRING "CUDA architectures")
endif()
if(NOT DEFINED CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX})
  find_program(PTK_NVCC nvcc HINTS /usr/local/cuda/bin ENV CUDA_HOME PATH_SUFFIXES bin)
  if(PTK_NVCC)
    set(CMAKE_CUDA_COMPILER "${PTK_NVCC}" CACHE FILEPATH "CUDA compiler")
  endif()
endif()
