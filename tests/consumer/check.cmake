# Installs ccdx into a scratch prefix, then configures, builds and runs a tiny project against it.
function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "failed: ${ARGN}\n${out}\n${err}")
  endif()
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
# Configured for one prefix, installed into another: the package must not remember the first.
set(prefix ${WORK_DIR}/prefix)
step(${CMAKE_COMMAND} -S ${CCDX_SOURCE_DIR} -B ${WORK_DIR}/ccdx -DCMAKE_INSTALL_PREFIX=${WORK_DIR}/configured
     -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}
     -DCCDX_BUILD_TESTS=OFF -DCCDX_BUILD_BENCH=OFF -DCCDX_BUILD_EXAMPLES=OFF)
step(${CMAKE_COMMAND} --install ${WORK_DIR}/ccdx --prefix ${prefix})
step(${CMAKE_COMMAND} -S ${CCDX_SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/app -DCMAKE_PREFIX_PATH=${prefix}
     -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER} -DCMAKE_BUILD_TYPE=Release)
step(${CMAKE_COMMAND} --build ${WORK_DIR}/app)
step(${WORK_DIR}/app/app)

# The same program built with nothing but pkg-config's flags.
find_program(PKG_CONFIG pkg-config)
if(PKG_CONFIG)
  set(ENV{PKG_CONFIG_PATH} ${prefix}/share/pkgconfig)
  execute_process(COMMAND ${PKG_CONFIG} --cflags --libs ccdx RESULT_VARIABLE result OUTPUT_VARIABLE flags
                  ERROR_VARIABLE err OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "pkg-config cannot use ccdx.pc: ${err}")
  endif()
  string(REGEX MATCH "-I([^ ]+)" _ "${flags}")
  get_filename_component(included ${CMAKE_MATCH_1} REALPATH)
  get_filename_component(expected ${prefix}/include REALPATH)
  if(NOT included STREQUAL expected)
    message(FATAL_ERROR "ccdx.pc does not point at the prefix it was installed into (${prefix}): ${flags}")
  endif()
  separate_arguments(flags UNIX_COMMAND "${flags}")
  step(${CMAKE_CXX_COMPILER} ${CCDX_SOURCE_DIR}/tests/consumer/main.cpp -o ${WORK_DIR}/app_pkgconfig ${flags})
  step(${WORK_DIR}/app_pkgconfig)
endif()
