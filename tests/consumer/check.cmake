# Installs ccdx into a scratch prefix, then configures, builds and runs a tiny project against it.
function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "failed: ${ARGN}\n${out}\n${err}")
  endif()
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
step(${CMAKE_COMMAND} -S ${CCDX_SOURCE_DIR} -B ${WORK_DIR}/ccdx -DCMAKE_INSTALL_PREFIX=${prefix}
     -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}
     -DCCDX_BUILD_TESTS=OFF -DCCDX_BUILD_BENCH=OFF -DCCDX_BUILD_EXAMPLES=OFF)
step(${CMAKE_COMMAND} --install ${WORK_DIR}/ccdx)
step(${CMAKE_COMMAND} -S ${CCDX_SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/app -DCMAKE_PREFIX_PATH=${prefix}
     -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER} -DCMAKE_BUILD_TYPE=Release)
step(${CMAKE_COMMAND} --build ${WORK_DIR}/app)
step(${WORK_DIR}/app/app)

find_program(PKG_CONFIG pkg-config)
if(PKG_CONFIG)
  set(ENV{PKG_CONFIG_PATH} ${prefix}/share/pkgconfig)
  step(${PKG_CONFIG} --exists --print-errors ccdx)
endif()
