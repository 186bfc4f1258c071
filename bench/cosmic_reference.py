#!/usr/bin/env python3
"""The reference side of bench_cosmic: ccdproc (and astroscrappy through it) on the same frames.

    cosmic_reference.py DIR [--size 2048] [--repeat 3]

writes into DIR
  cosmic_frame.fits   a star field with cosmic-ray hits, in adu (gain 1), with its uncertainty
  cosmic_truth.fits   the pixels the hits were put on (uint8, 1 = hit)
  ccdmask_ratio.fits  a ratio of two flats with bad columns, hot and dead pixels
  ref_lacosmic.fits, ref_median.fits, ref_ccdmask.fits   the reference's masks (uint8)
and prints the reference's timings (best of --repeat; wall clock and process CPU time, which
is the fairer figure on a loaded machine) as JSON. bench_cosmic reads the same
files when CCDX_COSMIC_DIR=DIR is set, times ccdx on them and reports the agreement.
Run it with OMP_NUM_THREADS=1 for astroscrappy single-threaded.
"""

import argparse
import json
import os
import time

import numpy as np
from astropy import units as u
from astropy.io import fits
from astropy.nddata import CCDData, StdDevUncertainty

import ccdproc

READNOISE = 6.5
SKY = 300.0


def star_field(n, rng):
    """Sky, Gaussian stars (a few saturated), Poisson and read noise; then cosmic-ray hits."""
    yy, xx = np.mgrid[0:n, 0:n]
    image = np.full((n, n), SKY)
    nstars = 400 * (n * n) // (2048 * 2048) + 10
    sigma = 3.0 / 2.3548
    for _ in range(nstars):
        y, x = rng.uniform(10, n - 10, 2)
        flux = 10 ** rng.uniform(3, 6.3)
        r = int(6 * sigma) + 1
        y0, x0 = int(y), int(x)
        sl = np.s_[max(y0 - r, 0):y0 + r + 1, max(x0 - r, 0):x0 + r + 1]
        image[sl] += flux / (2 * np.pi * sigma ** 2) * np.exp(
            -((yy[sl] - y) ** 2 + (xx[sl] - x) ** 2) / (2 * sigma ** 2))
    image = rng.poisson(image).astype(float) + rng.normal(0, READNOISE, image.shape)

    truth = np.zeros((n, n), np.uint8)
    nhits = 300 * (n * n) // (2048 * 2048) + 5
    for _ in range(nhits):
        y, x = rng.integers(5, n - 5, 2)
        length = rng.integers(1, 5)
        dy, dx = [(0, 1), (1, 0), (1, 1)][rng.integers(0, 3)]
        for k in range(length):
            yk, xk = y + k * dy, x + k * dx
            image[yk, xk] += rng.uniform(300, 5000)
            truth[yk, xk] = 1
    np.clip(image, None, 65535.0, out=image)
    return image.astype(np.float32), truth


def flat_ratio(n, rng):
    ratio = 1.0 + rng.normal(0, 0.01, (n, n))
    for col in rng.integers(0, n, 3):
        ratio[:, col] *= 0.85
    ys, xs = rng.integers(0, n, (2, 40))
    ratio[ys, xs] *= rng.choice([0.5, 1.5], 40)
    return ratio.astype(np.float32)


def best_of(repeat, f):
    """(best wall seconds, best CPU seconds), result."""
    wall, cpu, result = None, None, None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        result = f()
        dt, dc = time.perf_counter() - t, time.process_time() - c
        wall = dt if wall is None else min(wall, dt)
        cpu = dc if cpu is None else min(cpu, dc)
    return (wall, cpu), result


def write_mask(path, mask):
    fits.PrimaryHDU(np.asarray(mask, dtype=np.uint8)).writeto(path, overwrite=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('dir')
    ap.add_argument('--size', type=int, default=2048)
    ap.add_argument('--repeat', type=int, default=3)
    ap.add_argument('--seed', type=int, default=2001)
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    rng = np.random.default_rng(args.seed)

    data, truth = star_field(args.size, rng)
    sigma = np.sqrt(np.maximum(data, 0) + READNOISE ** 2).astype(np.float32)
    ccd = CCDData(data, unit=u.adu, uncertainty=StdDevUncertainty(sigma))
    ccd.write(os.path.join(args.dir, 'cosmic_frame.fits'), overwrite=True)
    write_mask(os.path.join(args.dir, 'cosmic_truth.fits'), truth)
    ratio = CCDData(flat_ratio(args.size, rng), unit=u.dimensionless_unscaled)
    ratio.write(os.path.join(args.dir, 'ccdmask_ratio.fits'), overwrite=True)

    # Read back as the library will, so both sides start from the same float32 pixels.
    ccd = CCDData.read(os.path.join(args.dir, 'cosmic_frame.fits'))
    ratio = CCDData.read(os.path.join(args.dir, 'ccdmask_ratio.fits'), unit=u.dimensionless_unscaled)

    timings = {'size': args.size, 'omp_num_threads': os.environ.get('OMP_NUM_THREADS', 'unset')}
    (timings['lacosmic_s'], timings['lacosmic_cpu_s']), la = best_of(args.repeat, lambda: ccdproc.cosmicray_lacosmic(
        ccd, sigclip=4.5, sigfrac=0.3, objlim=5.0, gain=1.0, readnoise=READNOISE, satlevel=65535.0,
        niter=4, sepmed=True, cleantype='meanmask', fsmode='median', gain_apply=False))
    write_mask(os.path.join(args.dir, 'ref_lacosmic.fits'), la.mask)
    (timings['median_s'], timings['median_cpu_s']), med = best_of(args.repeat, lambda: ccdproc.cosmicray_median(
        ccd, thresh=5, mbox=11, rbox=0, gbox=0))
    write_mask(os.path.join(args.dir, 'ref_median.fits'), med.mask)
    (timings['ccdmask_s'], timings['ccdmask_cpu_s']), cm = best_of(args.repeat, lambda: ccdproc.ccdmask(ratio))
    write_mask(os.path.join(args.dir, 'ref_ccdmask.fits'), cm)
    timings['hits_injected_pixels'] = int(truth.sum())
    timings['lacosmic_pixels'] = int(np.asarray(la.mask).sum())
    timings['lacosmic_truth_recovered'] = float((np.asarray(la.mask) & (truth == 1)).sum() / truth.sum())
    timings['median_pixels'] = int(np.asarray(med.mask).sum())
    timings['ccdmask_pixels'] = int(cm.sum())
    print(json.dumps(timings, indent=1))


if __name__ == '__main__':
    main()
