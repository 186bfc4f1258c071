# libFuzzer targets (tests/fuzz/), built with clang and -DCCDX_FUZZ=ON:
#   fuzz_fits_reader  any bytes as a FITS file: whole image, header, a row band, tile-compressed
#   fuzz_parsers      run-time formulas, sections, units, header records, collection filters
# Each has a smoke test that runs CCDX_FUZZ_RUNS inputs from a fixed seed, starting from its
# seeds and from fuzz/regressions/ (every input a fuzzer once failed on, checked first).
# libFuzzer orders seeds of equal size as the file system lists them, so two machines need not
# try the same inputs. Longer runs, e.g. ten minutes:
#   LSAN_OPTIONS=suppressions=tests/fuzz/lsan.supp \
#     build-fuzz/tests/fuzz_fits_reader -max_total_time=600 corpus build-fuzz/tests/fuzz_fits_reader_seeds
# (lsan.supp: leaks inside cfitsio itself, on damaged HCOMPRESS tiles, are not reported).
# The regular suite (gcc) runs both smoke tests through a clang build of its own, fuzz_smoke.
option(CCDX_FUZZ "Build the libFuzzer targets (clang only)" OFF)
set(CCDX_FUZZ_RUNS 20000 CACHE STRING "How many inputs each fuzz smoke test tries")

if(CCDX_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "CCDX_FUZZ needs clang (libFuzzer); configure with -DCMAKE_CXX_COMPILER=clang++")
  endif()

  set(ccdx_fuzz_dir ${CMAKE_CURRENT_LIST_DIR}/fuzz)
  # A target and its smoke test; seeds are copied at configure time into the build folder, where
  # new inputs the fuzzer finds go too (never the source tree).
  function(ccdx_fuzz_target name max_len)
    add_executable(fuzz_${name} ${ccdx_fuzz_dir}/${name}.cpp)
    target_link_libraries(fuzz_${name} PRIVATE ccdx_project_flags)
    target_compile_options(fuzz_${name} PRIVATE -g -fsanitize=fuzzer,address,undefined)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    set(seeds ${CMAKE_CURRENT_BINARY_DIR}/fuzz_${name}_seeds)
    set(corpus ${CMAKE_CURRENT_BINARY_DIR}/fuzz_${name}_corpus)
    file(MAKE_DIRECTORY ${seeds})
    foreach(seed ${ARGN})
      file(COPY ${seed} DESTINATION ${seeds})
    endforeach()
    # A fresh corpus folder each run, so earlier runs' finds do not change what this one tries.
    add_test(NAME fuzz_${name}_smoke
             COMMAND sh -c "rm -rf ${corpus} && mkdir ${corpus} && $<TARGET_FILE:fuzz_${name}> -seed=1 \
               -runs=${CCDX_FUZZ_RUNS} -max_total_time=150 -max_len=${max_len} -rss_limit_mb=2048 \
               -malloc_limit_mb=8192 -timeout=10 ${corpus} ${seeds}")
    # A header claiming absurd sizes makes cfitsio ask for petabytes; outside ASan that calloc
    # returns NULL and becomes a fits_error, so ASan is told to behave the same. A damaged gzip
    # trailer makes cfitsio allocate what it claims (up to 4 GiB, mostly never touched) before
    # failing: a fits_error in 20 ms outside the fuzzer, so the malloc limit sits above it.
    set_tests_properties(fuzz_${name}_smoke PROPERTIES ENVIRONMENT
      "ASAN_OPTIONS=allocator_may_return_null=1;LSAN_OPTIONS=suppressions=${ccdx_fuzz_dir}/lsan.supp")
  endfunction()

  # The FITS reader's seeds: every file of at most 64 KiB from the real frames and the golden set.
  file(GLOB_RECURSE candidates ${CCDX_TEST_DATA_DIR}/*.fit* ${CCDX_GOLDEN_DIR}/*.fits)
  set(fits_seeds "")
  foreach(seed ${candidates})
    file(SIZE ${seed} seed_size)
    if(seed_size LESS_EQUAL 65536)
      list(APPEND fits_seeds ${seed})
    endif()
  endforeach()
  file(GLOB regressions ${ccdx_fuzz_dir}/regressions/*)
  ccdx_fuzz_target(fits_reader 65536 ${fits_seeds} ${regressions})
  # The inputs whose failure ccdx fixed, replayed with every leak reported.
  list(FILTER regressions EXCLUDE REGEX "hcompress")
  add_test(NAME fuzz_fits_reader_regressions COMMAND fuzz_fits_reader ${regressions})
  set_tests_properties(fuzz_fits_reader_regressions PROPERTIES ENVIRONMENT "ASAN_OPTIONS=allocator_may_return_null=1")
  file(GLOB parser_seeds ${ccdx_fuzz_dir}/parsers/*)
  ccdx_fuzz_target(parsers 4096 ${parser_seeds})
endif()

# From the regular suite: both smoke tests in a clang build beside this one.
find_program(CCDX_CLANGXX NAMES clang++ clang++-14)
if(NOT CCDX_FUZZ AND NOT CCDX_SANITIZE)
  if(CCDX_CLANGXX)
    add_test(NAME fuzz_smoke
      COMMAND sh -c "${CMAKE_COMMAND} -S ${PROJECT_SOURCE_DIR} -B ${PROJECT_BINARY_DIR}/fuzz \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=${CCDX_CLANGXX} -DCCDX_FUZZ=ON \
        -DCCDX_BUILD_BENCH=OFF -DCCDX_BUILD_EXAMPLES=OFF -DCCDX_GOLDEN_DIR=${CCDX_GOLDEN_DIR} \
        && ${CMAKE_COMMAND} --build ${PROJECT_BINARY_DIR}/fuzz --target fuzz_fits_reader fuzz_parsers -j2 \
        && ctest --test-dir ${PROJECT_BINARY_DIR}/fuzz --output-on-failure -R '^fuzz_'")
    set_tests_properties(fuzz_smoke PROPERTIES TIMEOUT 1500)
  else()
    message(STATUS "clang++ not found: the parsers are not fuzzed by this suite")
  endif()
endif()
