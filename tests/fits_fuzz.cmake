# libFuzzer target for the FITS reader (tests/fuzz/), off by default: needs clang.
#   cmake -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCCDX_FUZZ=ON && ctest -R fuzz
# The smoke test fuzzes for CCDX_FUZZ_SECONDS from a seed corpus of the repository's small FITS files.
# Known: fuzz/cfitsio_rice_decoder_crash.fits (found after ~2 minutes) crashes cfitsio 4.2's own
# Rice decoder (fits_rdecomp) on a damaged tile; it is kept as the reproducer, not as a seed.
option(CCDX_FUZZ "Build the libFuzzer target for the FITS reader (clang only)" OFF)
set(CCDX_FUZZ_SECONDS 30 CACHE STRING "How long the fuzz smoke test runs")

if(CCDX_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "CCDX_FUZZ needs clang (libFuzzer); configure with -DCMAKE_CXX_COMPILER=clang++")
  endif()
  add_executable(fuzz_fits_reader ${CMAKE_CURRENT_LIST_DIR}/fuzz/fits_reader.cpp)
  target_link_libraries(fuzz_fits_reader PRIVATE ccdx_project_flags)
  target_compile_options(fuzz_fits_reader PRIVATE -g -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_fits_reader PRIVATE -fsanitize=fuzzer,address,undefined)

  # Seeds: every file of at most 64 KiB from the real frames and the golden set, copied at
  # configure time; new inputs the fuzzer finds go to the build folder, never the source tree.
  set(seed_dir ${CMAKE_CURRENT_BINARY_DIR}/fuzz_fits_seeds)
  file(MAKE_DIRECTORY ${seed_dir} ${CMAKE_CURRENT_BINARY_DIR}/fuzz_fits_corpus)
  file(GLOB_RECURSE seed_candidates ${CCDX_TEST_DATA_DIR}/*.fit* ${CCDX_GOLDEN_DIR}/*.fits)
  foreach(seed ${seed_candidates})
    file(SIZE ${seed} seed_size)
    if(seed_size LESS_EQUAL 65536)
      file(COPY ${seed} DESTINATION ${seed_dir})
    endif()
  endforeach()
  add_test(NAME fuzz_fits_reader_smoke
           COMMAND fuzz_fits_reader -max_total_time=${CCDX_FUZZ_SECONDS} -max_len=65536 -rss_limit_mb=2048
                   -timeout=10 ${CMAKE_CURRENT_BINARY_DIR}/fuzz_fits_corpus ${seed_dir})
  # A header claiming absurd sizes makes cfitsio ask for petabytes; outside ASan that calloc
  # returns NULL and becomes a fits_error, so ASan is told to behave the same.
  set_tests_properties(fuzz_fits_reader_smoke PROPERTIES ENVIRONMENT "ASAN_OPTIONS=allocator_may_return_null=1")
endif()
