# The installed package serves a consumer project: find_package(ccdx) and ccdx::ccdx, and pkg-config.
add_test(NAME consumer_package
  COMMAND ${CMAKE_COMMAND}
    -DCCDX_SOURCE_DIR=${PROJECT_SOURCE_DIR}
    -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/consumer
    -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}
    -P ${CMAKE_CURRENT_SOURCE_DIR}/consumer/check.cmake)
set_tests_properties(consumer_package PROPERTIES TIMEOUT 600)
