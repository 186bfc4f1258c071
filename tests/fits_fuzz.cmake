# libFuzzer target for the FITS reader (tests/fuzz/): needs clang.
#   cmake -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCCDX_FUZZ=ON && ctest --test-dir build-fuzz -R fuzz
# fuzz_fits_reader_smoke runs CCDX_FUZZ_RUNS inputs from a fixed seed, starting from the
# repository's small FITS files. libFuzzer orders seeds of equal size as the file system lists
# them, so two machines need not try the same inputs.
# Longer exploration: build-fuzz/tests/fuzz_fits_reader -max_total_time=600 <corpus> <seeds>.
# The regular suite (gcc) runs that smoke test through a clang build of its own, fits_fuzz_smoke.
# Known: fuzz/cfitsio_rice_decoder_crash.fits (found after ~2 minutes) crashes cfitsio 4.2's own
# Rice decoder (fits_rdecomp) on a damaged tile; it is kept as the reproducer, not as a seed.
option(CCDX_FUZZ "Build the libFuzzer target for the FITS reader (clang only)" OFF)
set(CCDX_FUZZ_RUNS 20000 CACHE STRING "How many inputs the fuzz smoke test tries")

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
  # A fresh corpus folder each run, so earlier runs' finds do not change what this one tries.
  set(corpus ${CMAKE_CURRENT_BINARY_DIR}/fuzz_fits_corpus)
  add_test(NAME fuzz_fits_reader_smoke
           COMMAND sh -c "rm -rf ${corpus} && mkdir ${corpus} && $<TARGET_FILE:fuzz_fits_reader> -seed=1 \
             -runs=${CCDX_FUZZ_RUNS} -max_total_time=300 -max_len=65536 -rss_limit_mb=2048 -malloc_limit_mb=8192 -timeout=10 ${corpus} ${seed_dir}")
  # A header claiming absurd sizes makes cfitsio ask for petabytes; outside ASan that calloc
  # returns NULL and becomes a fits_error, so ASan is told to behave the same. A damaged gzip
  # trailer makes cfitsio allocate what it claims (up to 4 GiB, mostly never touched) before
  # failing with status 414: a fits_error in 20 ms outside the fuzzer, so the malloc limit
  # sits above it.
  set_tests_properties(fuzz_fits_reader_smoke PROPERTIES ENVIRONMENT "ASAN_OPTIONS=allocator_may_return_null=1")
endif()

# From the regular suite: the smoke test in a clang build beside this one.
find_program(CCDX_CLANGXX NAMES clang++ clang++-14)
if(NOT CCDX_FUZZ AND NOT CCDX_SANITIZE)
  if(CCDX_CLANGXX)
    add_test(NAME fits_fuzz_smoke
      COMMAND sh -c "${CMAKE_COMMAND} -S ${PROJECT_SOURCE_DIR} -B ${PROJECT_BINARY_DIR}/fuzz \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=${CCDX_CLANGXX} -DCCDX_FUZZ=ON \
        -DCCDX_BUILD_BENCH=OFF -DCCDX_BUILD_EXAMPLES=OFF -DCCDX_GOLDEN_DIR=${CCDX_GOLDEN_DIR} \
        && ${CMAKE_COMMAND} --build ${PROJECT_BINARY_DIR}/fuzz --target fuzz_fits_reader -j2 \
        && ctest --test-dir ${PROJECT_BINARY_DIR}/fuzz --output-on-failure -R '^fuzz_fits_reader_smoke$'")
    set_tests_properties(fits_fuzz_smoke PROPERTIES TIMEOUT 1200)
  else()
    message(STATUS "clang++ not found: the FITS reader is not fuzzed by this suite")
  endif()
endif()
