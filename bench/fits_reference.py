#!/usr/bin/env python3
"""Time astropy's CCDData.read on the files bench_fits writes, for a side-by-side comparison.

    CCDX_BENCH_DIR=FOLDER/.. build/bench/bench_fits     # keeps its files in FOLDER = .../fits
    /usr/bin/python3 bench/fits_reference.py FOLDER

FOLDER holds reduced.fits (4096 x 4096 float32 with UNCERT and MASK) and raw.fits (uint16 with
BZERO = 32768). Each read touches all of the data (a sum of every plane), as bench_fits's reads
do, so memory-mapped lazy reads are not counted as free. Prints the best of --repeat wall
times, in milliseconds, as JSON.
"""

import argparse
import json
import os
import time
import warnings

import numpy as np
from astropy.nddata import CCDData


def best_of(repeat, f):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return 1000 * min(times)


def read_reduced(path):
    ccd = CCDData.read(path)
    return float(np.sum(ccd.data)) + float(np.sum(ccd.uncertainty.array)) + int(np.count_nonzero(ccd.mask))


def read_raw(path):
    ccd = CCDData.read(path)  # the file carries BUNIT
    return float(np.sum(ccd.data))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('folder')
    parser.add_argument('--repeat', type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter('ignore')
    reduced = os.path.join(args.folder, 'reduced.fits')
    raw = os.path.join(args.folder, 'raw.fits')
    raw_gz = os.path.join(args.folder, 'raw.fits.gz')
    written = os.path.join(args.folder, 'written_by_astropy.fits')
    ccd = CCDData.read(reduced)

    def write_reduced():
        ccd.write(written, overwrite=True)

    timings = {'read_reduced_ms': best_of(args.repeat, lambda: read_reduced(reduced)),
               'read_raw_uint16_ms': best_of(args.repeat, lambda: read_raw(raw)),
               'read_raw_gz_ms': best_of(args.repeat, lambda: read_raw(raw_gz)),
               'write_reduced_ms': best_of(args.repeat, write_reduced)}
    os.remove(written)
    print(json.dumps(timings))


if __name__ == '__main__':
    main()
