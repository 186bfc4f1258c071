# Mistakes that must not compile, each with the first line of its error pinned: tests/compile_fail/
# NAME.cpp starts with `// error: TEXT`, and the test builds it (never part of `all`) and checks
# that the build fails and that its first error contains TEXT. Not rebuilt for the sanitizers.
if(NOT CCDX_SANITIZE)
  file(GLOB ccdx_compile_fail CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/compile_fail/*.cpp)
  foreach(source ${ccdx_compile_fail})
    get_filename_component(name ${source} NAME_WE)
    add_library(compile_fail_${name} OBJECT EXCLUDE_FROM_ALL ${source})
    target_link_libraries(compile_fail_${name} PRIVATE ccdx_project_flags)
    add_test(NAME compile_fail_${name}
             COMMAND ${CMAKE_COMMAND} -DBUILD_DIR=${PROJECT_BINARY_DIR} -DTARGET=compile_fail_${name}
                     -DSOURCE=${source} -P ${CMAKE_CURRENT_LIST_DIR}/compile_fail/expect_error.cmake)
  endforeach()
endif()
