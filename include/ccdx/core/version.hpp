#pragma once
// The library's version, written here only: CMakeLists.txt reads it from this file.

#define CCDX_VERSION_MAJOR 0
#define CCDX_VERSION_MINOR 2
#define CCDX_VERSION_PATCH 0

// One number that compares: 10000 * major + 100 * minor + patch.
#define CCDX_VERSION (CCDX_VERSION_MAJOR * 10000 + CCDX_VERSION_MINOR * 100 + CCDX_VERSION_PATCH)

#define CCDX_DETAIL_TEXT(x) #x
#define CCDX_DETAIL_NUMBER_TEXT(x) CCDX_DETAIL_TEXT(x)
// "0.2.0"
#define CCDX_VERSION_STRING                                                                      \
    CCDX_DETAIL_NUMBER_TEXT(CCDX_VERSION_MAJOR)                                                  \
    "." CCDX_DETAIL_NUMBER_TEXT(CCDX_VERSION_MINOR) "." CCDX_DETAIL_NUMBER_TEXT(CCDX_VERSION_PATCH)
