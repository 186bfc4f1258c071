# Interoperability with astropy's CCDData, both ways (tests/interop/). Runs with the system's
# Python, where Debian's python3-astropy lives; skipped (return code 77) when astropy is missing.
set(CCDX_INTEROP_PYTHON /usr/bin/python3 CACHE FILEPATH "Python with astropy for the FITS interoperability test")

add_executable(fits_tool ${CMAKE_CURRENT_LIST_DIR}/interop/fits_tool.cpp)
target_link_libraries(fits_tool PRIVATE ccdx_project_flags)

if(EXISTS ${CCDX_INTEROP_PYTHON})
  add_test(NAME fits_interop_astropy
           COMMAND ${CCDX_INTEROP_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/interop/check_astropy.py
                   $<TARGET_FILE:fits_tool> ${CCDX_GOLDEN_DIR} ${CCDX_TEST_DATA_DIR}
                   ${CMAKE_CURRENT_BINARY_DIR}/fits_interop)
  set_tests_properties(fits_interop_astropy PROPERTIES SKIP_RETURN_CODE 77)
else()
  message(STATUS "ccdx: no ${CCDX_INTEROP_PYTHON}; the astropy interoperability test is not registered")
endif()
