# Installs the tandem package into a scratch prefix, builds examples/custom_tool against it,
# and runs it on the bundled example: proof that the library is usable on its own.
# Called by CTest with BUILD_DIR, SOURCE_DIR and WORK_DIR.
file(REMOVE_RECURSE "${WORK_DIR}")
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${WORK_DIR}/prefix"
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (${rc})")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" -S "${SOURCE_DIR}/examples/custom_tool" -B "${WORK_DIR}/build"
                        -G Ninja "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring custom_tool against the installed package failed:\n${out}\n${err}")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" --build "${WORK_DIR}/build" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building custom_tool failed:\n${out}\n${err}")
endif()
execute_process(COMMAND "${WORK_DIR}/build/plan-report" "${SOURCE_DIR}/examples/hello" harness
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "plan-report failed (${rc}):\n${out}\n${err}")
endif()
foreach(expected "project hello: 3 services" "wave 1" "store" "api" "worker")
  string(FIND "${out}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "plan-report output lacks '${expected}':\n${out}")
  endif()
endforeach()
message(STATUS "custom_tool built against the installed package and planned the example:\n${out}")
