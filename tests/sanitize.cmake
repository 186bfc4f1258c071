# The whole suite once more under AddressSanitizer and UBSan, in a build of its own.
if(NOT CCDX_SANITIZE)
  add_test(NAME sanitized_suite
    COMMAND sh -c "${CMAKE_COMMAND} -S ${PROJECT_SOURCE_DIR} -B ${PROJECT_BINARY_DIR}/sanitized \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCCDX_SANITIZE=ON -DCCDX_WERROR=${CCDX_WERROR} \
      -DCCDX_BUILD_BENCH=OFF -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER} \
      && ${CMAKE_COMMAND} --build ${PROJECT_BINARY_DIR}/sanitized -j2 \
      && ctest --test-dir ${PROJECT_BINARY_DIR}/sanitized --output-on-failure -E '^(consumer_package|fuzz.*)$'")
  set_tests_properties(sanitized_suite PROPERTIES TIMEOUT 3600)
endif()
