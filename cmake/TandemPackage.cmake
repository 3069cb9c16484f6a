# `cmake --install` exports the `tandem` package: find_package(tandem) gives tandem::core.
include(CMakePackageConfigHelpers)
set(TANDEM_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/tandem")

install(TARGETS tandem_core EXPORT tandemTargets
        ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}")
install(DIRECTORY core/include/tandem DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(TARGETS devloop shipper RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(FILES policies/wip.yaml policies/harness.yaml DESTINATION "${CMAKE_INSTALL_DATADIR}/tandem/policies")
install(EXPORT tandemTargets NAMESPACE tandem:: DESTINATION "${TANDEM_CMAKE_DIR}")

configure_package_config_file(cmake/tandemConfig.cmake.in "${PROJECT_BINARY_DIR}/tandemConfig.cmake"
                              INSTALL_DESTINATION "${TANDEM_CMAKE_DIR}")
write_basic_package_version_file("${PROJECT_BINARY_DIR}/tandemConfigVersion.cmake"
                                 COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/tandemConfig.cmake" "${PROJECT_BINARY_DIR}/tandemConfigVersion.cmake"
              cmake/FindLibGit2.cmake DESTINATION "${TANDEM_CMAKE_DIR}")
