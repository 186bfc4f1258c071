#!/usr/bin/env python3
"""Time ccdproc's ccd_process + write loop on the night bench_night reduces, for a comparison.

    CCDX_BENCH_DIR=FOLDER/.. build/bench/bench_night    # keeps its files in FOLDER = .../night
    /usr/bin/python3 bench/night_reference.py FOLDER

FOLDER holds raw/light*.fits (uint16 with BZERO = 32768, BUNIT and EXPTIME) and bias.fits,
dark.fits, flat.fits (float32 with UNCERT and MASK). Each frame is read, reduced as bench_night
reduces it (deviation from gain 1.5 electron/adu and read noise 8 electron, bias, the dark
scaled by EXPTIME, the flat, the gain last) and written to a new file in FOLDER/out_ccdproc.
Prints the wall time of the whole loop and per frame, in milliseconds, and the peak resident
memory in MB, as JSON. Works with
Debian's python3-ccdproc.
"""

import argparse
import glob
import json
import logging
import os
import resource
import shutil
import time
import warnings

from astropy import units as u
from astropy.nddata import CCDData

import ccdproc


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('folder')
    args = parser.parse_args()
    warnings.simplefilter('ignore')
    logging.disable(logging.WARNING)  # one 'replaced with nan' line per frame
    masters = {name: CCDData.read(os.path.join(args.folder, name + '.fits')) for name in ('bias', 'dark', 'flat')}
    raws = sorted(glob.glob(os.path.join(args.folder, 'raw', 'light*.fits')))
    out = os.path.join(args.folder, 'out_ccdproc')
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    start = time.perf_counter()
    for path in raws:
        raw = CCDData.read(path)
        reduced = ccdproc.ccd_process(raw, error=True, gain=1.5 * u.electron / u.adu, readnoise=8 * u.electron,
                                      master_bias=masters['bias'], dark_frame=masters['dark'],
                                      master_flat=masters['flat'], exposure_key='EXPTIME', exposure_unit=u.s,
                                      dark_scale=True, gain_corrected=False)
        reduced.write(os.path.join(out, os.path.basename(path)))
    total = time.perf_counter() - start
    shutil.rmtree(out)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6
    print(json.dumps({'frames': len(raws), 'night_ms': 1000 * total, 'per_frame_ms': 1000 * total / len(raws),
                      'peak_MB': peak_mb}))


if __name__ == '__main__':
    main()
