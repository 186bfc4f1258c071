# test_cli runs the built ccdx program (examples/cli/), when it is built.
if(TARGET test_cli AND CCDX_BUILD_EXAMPLES)
  find_package(CLI11 CONFIG QUIET)
  if(CLI11_FOUND)
    target_compile_definitions(test_cli PRIVATE CCDX_CLI="$<TARGET_FILE:ccdx-cli>")
    add_dependencies(test_cli ccdx-cli)
  endif()
endif()
