# The foreign corpus: the reader that runs ccdx on one HDU of a file ccdx did not write. Not
# rebuilt for the sanitizers.
if(NOT CCDX_SANITIZE)
  add_executable(foreign_reader ${CMAKE_CURRENT_LIST_DIR}/interop/foreign_reader.cpp)
  target_link_libraries(foreign_reader PRIVATE ccdx_project_flags)
endif()
