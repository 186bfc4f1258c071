# Builds TARGET in BUILD_DIR; passes when the build fails and its first error line contains the
# text after `// error: ` on SOURCE's first line.
file(STRINGS ${SOURCE} first LIMIT_COUNT 1)
string(REGEX REPLACE "^// error: " "" expected "${first}")
set(ENV{LC_ALL} C)  # plain quotes in the compiler's messages
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGET}
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(status EQUAL 0)
  message(FATAL_ERROR "${TARGET} compiled, but it must not: ${expected}")
endif()
string(REGEX MATCH "[^\n]*error:[^\n]*" first_error "${out}")
string(FIND "${first_error}" "${expected}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${TARGET}: the first error should contain\n  ${expected}\nbut it is\n  ${first_error}")
endif()
message(STATUS "${TARGET}: ${first_error}")
