# The layout by stage: every header in a stage folder compiles on its own (and twice in a row), and each folder
# includes only the ones before it. Not rebuilt for the sanitizers: it tests no behaviour.
if(NOT CCDX_SANITIZE)
  # The headers in the stage folders; the forwarders above them are checked by check_layout.cmake.
  file(GLOB_RECURSE ccdx_headers CONFIGURE_DEPENDS RELATIVE ${PROJECT_SOURCE_DIR}/include
       ${PROJECT_SOURCE_DIR}/include/ccdx/*/*.hpp)
  set(ccdx_alone_sources "")
  foreach(header ${ccdx_headers})
    string(MAKE_C_IDENTIFIER ${header} id)
    set(source ${CMAKE_CURRENT_BINARY_DIR}/alone/${id}.cpp)
    file(CONFIGURE OUTPUT ${source} CONTENT "#include <${header}>\n#include <${header}>\n")
    list(APPEND ccdx_alone_sources ${source})
  endforeach()
  add_library(ccdx_headers_alone OBJECT ${ccdx_alone_sources})
  target_link_libraries(ccdx_headers_alone PRIVATE ccdx ccdx_project_flags)
  target_compile_options(ccdx_headers_alone PRIVATE -O0)
  add_test(NAME layout_by_stage
           COMMAND ${CMAKE_COMMAND} -DROOT=${PROJECT_SOURCE_DIR}/include/ccdx -P ${PROJECT_SOURCE_DIR}/cmake/check_layout.cmake)
  # No run of 6 or more significant lines is written twice in include/.
  find_package(Python3 COMPONENTS Interpreter QUIET)
  if(Python3_Interpreter_FOUND)
    add_test(NAME no_repeated_code
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/check_repeats.py ${PROJECT_SOURCE_DIR}/include)
  endif()
endif()
