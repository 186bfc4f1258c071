#!/usr/bin/python3
"""Reference results for tests/test_tutorial.cpp, computed once with ccdproc.

Run from anywhere with the Python reference installed (Debian's python3-ccdproc 2.4.0 on
astropy 5.2.1):

    /usr/bin/python3 tests/data/make_tutorial_reference.py

It reduces the four frames in feder_aspen_workshop/ the way the ccdproc tutorial does and
writes, beside them:

  reference_steps.fits.gz        subtract_bias -> subtract_dark (keyword EXPOSURE, seconds,
                                 scaled) -> flat_correct, one call at a time; the same reduction
                                 as one ccd_process call gives bit-identical data and
                                 uncertainty (checked here), so one file serves both
  reference_ccd_process_error.fits.gz
                                 ccd_process with error=True (gain 1.5 electron/adu, read noise
                                 10 electron) and gain_corrected=False (masters stay in adu)

Data and uncertainty are stored as float32 (ccdproc computes in float64 from the uint16 light
frame; float32 keeps the files small and is far inside the test tolerances).
"""
import pathlib

import numpy as np
from astropy import units as u
from astropy.nddata import CCDData

import ccdproc

HERE = pathlib.Path(__file__).resolve().parent / "feder_aspen_workshop"


def read(name, **kw):
    return CCDData.read(HERE / name, **kw)


def store(ccd, name):
    out = CCDData(ccd.data.astype(np.float32), unit=ccd.unit, meta=ccd.meta,
                  mask=ccd.mask)
    if ccd.uncertainty is not None:
        out.uncertainty = ccd.uncertainty.array.astype(np.float32)
    out.write(HERE / name, overwrite=True)


light = read("kelt-16-b-S001-R001-C084-r.fit.gz", unit="adu")
bias = read("combined_bias.fit.gz")
dark = read("combined_dark_90.000.fit.gz")
flat = read("combined_flat_filter_r.fit.gz")

step = ccdproc.subtract_bias(light, bias)
step = ccdproc.subtract_dark(step, dark, exposure_time="exposure",
                             exposure_unit=u.second, scale=True)
step = ccdproc.flat_correct(step, flat)
store(step, "reference_steps.fits.gz")

one = ccdproc.ccd_process(light, master_bias=bias, dark_frame=dark, master_flat=flat,
                          exposure_key="exposure", exposure_unit=u.second, dark_scale=True)
assert np.array_equal(one.data, step.data, equal_nan=True)
assert np.array_equal(one.uncertainty.array, step.uncertainty.array, equal_nan=True)

err = ccdproc.ccd_process(light, error=True, gain=1.5 * u.electron / u.adu,
                          readnoise=10 * u.electron, master_bias=bias, dark_frame=dark,
                          master_flat=flat, exposure_key="exposure", exposure_unit=u.second,
                          dark_scale=True, gain_corrected=False)
store(err, "reference_ccd_process_error.fits.gz")
