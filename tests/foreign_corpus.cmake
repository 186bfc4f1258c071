# The foreign corpus (tests/interop/foreign_corpus.py): every FITS file that the installed astropy
# and ccdproc ship with their test suites, read by ccdx or refused with a ccdx::error, and where
# astropy reads an image, the same pixels. The files are found at run time in the installed
# packages, never copied here; skipped (return code 77) when astropy is missing. Not rebuilt for
# the sanitizers.
if(NOT CCDX_SANITIZE)
  # The same Python as the interoperability test (fits_interop.cmake), whichever is included first.
  set(CCDX_INTEROP_PYTHON /usr/bin/python3 CACHE FILEPATH "Python with astropy for the FITS interoperability test")
  add_executable(foreign_reader ${CMAKE_CURRENT_LIST_DIR}/interop/foreign_reader.cpp)
  target_link_libraries(foreign_reader PRIVATE ccdx_project_flags)

  if(EXISTS ${CCDX_INTEROP_PYTHON})
    add_test(NAME fits_foreign_corpus
             COMMAND ${CCDX_INTEROP_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/interop/foreign_corpus.py
                     $<TARGET_FILE:foreign_reader> ${CMAKE_CURRENT_BINARY_DIR}/foreign_corpus)
    set_tests_properties(fits_foreign_corpus PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 900)
  else()
    message(STATUS "ccdx: no ${CCDX_INTEROP_PYTHON}; the foreign-corpus test is not registered")
  endif()
endif()
