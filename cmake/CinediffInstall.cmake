include(CMakePackageConfigHelpers)
set(CINEDIFF_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/cinediff")

install(DIRECTORY include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp" PATTERN "*.cuh")
install(TARGETS cinediff cinediff_thrust EXPORT cinediff-targets)
if(TARGET cinediff_io)
  install(TARGETS cinediff_io EXPORT cinediff-targets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()
install(EXPORT cinediff-targets NAMESPACE cinediff:: DESTINATION ${CINEDIFF_CMAKE_DIR})
export(EXPORT cinediff-targets NAMESPACE cinediff:: FILE "${CMAKE_CURRENT_BINARY_DIR}/cinediff-targets.cmake")

configure_package_config_file(cmake/cinediff-config.cmake.in
  "${CMAKE_CURRENT_BINARY_DIR}/cinediff-config.cmake" INSTALL_DESTINATION ${CINEDIFF_CMAKE_DIR})
# With the compiled cinediff::io the package is no longer architecture independent: a 32-bit
# consumer must not accept a 64-bit static library.
if(TARGET cinediff_io)
  set(_cinediff_arch_independent "")
else()
  set(_cinediff_arch_independent ARCH_INDEPENDENT)
endif()
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/cinediff-config-version.cmake"
  COMPATIBILITY SameMajorVersion ${_cinediff_arch_independent})
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/cinediff-config.cmake"
              "${CMAKE_CURRENT_BINARY_DIR}/cinediff-config-version.cmake"
        DESTINATION ${CINEDIFF_CMAKE_DIR})
