#!/usr/bin/env python3
"""Time ccdproc.ccd_process on the reduction bench_process times, for a side-by-side comparison.

    /usr/bin/python3 bench/process_reference.py [--size 4096] [--repeat 3]

Frames as bench_process makes them (same levels, noise, uncertainties and bad-pixel fraction;
not the same random draws, which do not matter for the time): a raw frame of adu, masters with
uncertainty, a dark of three times the exposure, a mask of 0.1 % bad pixels. One call does what
bench_process's BM_process does: deviation from gain 1.5 electron/adu and read noise 10 electron,
the mask, bias, the exposure-scaled dark, the flat, then the gain. Prints the best wall time and
process CPU time of --repeat calls, and the peak resident memory, as JSON. Works with Debian's
python3-ccdproc.
"""

import argparse
import json
import resource
import time
import warnings

import numpy as np
from astropy import units as u
from astropy.nddata import CCDData, StdDevUncertainty

import ccdproc


def frame(rng, n, level, spread, sigma, exptime=None):
    data = rng.normal(level, spread, (n, n)).astype(np.float32)
    unc = StdDevUncertainty(np.full((n, n), sigma, np.float32)) if sigma > 0 else None
    ccd = CCDData(data, unit='adu', uncertainty=unc)
    if exptime is not None:
        ccd.header['EXPTIME'] = exptime
    return ccd


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--size', type=int, default=4096)
    parser.add_argument('--repeat', type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter('ignore')

    rng = np.random.default_rng(4)
    n = args.size
    raw = frame(rng, n, 1200, 12, 0, 30.0)
    bias = frame(rng, n, 1000, 5, 1)
    dark = frame(rng, n, 40, 3, 0.5, 90.0)
    flat = frame(rng, n, 1, 0.01, 0.001)
    bad = rng.random((n, n)) < 0.001

    def reduce():
        return ccdproc.ccd_process(raw, error=True, gain=1.5 * u.electron / u.adu, readnoise=10 * u.electron,
                                   bad_pixel_mask=bad, master_bias=bias, dark_frame=dark, master_flat=flat,
                                   exposure_key='EXPTIME', exposure_unit=u.s, dark_scale=True,
                                   gain_corrected=False)

    wall, cpu = [], []
    for _ in range(args.repeat):
        t, c = time.perf_counter(), time.process_time()
        reduce()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    print(json.dumps({'size': n, 'ccd_process_s': min(wall), 'ccd_process_cpu_s': min(cpu),
                      'peak_rss_MB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == '__main__':
    main()
