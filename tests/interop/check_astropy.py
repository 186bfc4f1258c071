"""Interoperability of ccdx's FITS files with astropy's CCDData, both ways.

    check_astropy.py <fits_tool> <golden dir> <test data dir> <scratch dir>

astropy -> ccdx: every file of the golden set (written by CCDData.write) and a few camera files
are read by ccdx (fits_tool dump) and compared with what CCDData.read gives.
ccdx -> astropy: files ccdx writes (fits_tool write) are read by CCDData.read and compared with
the source. Exits 77 (skipped) when astropy is not installed."""
import os
import subprocess
import sys
import warnings

try:
    import numpy as np
    from astropy import units as u
    from astropy.io import fits
    from astropy.nddata import CCDData
    from astropy.utils.exceptions import AstropyWarning
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(77)

tool, golden, data, scratch = sys.argv[1:5]
os.makedirs(scratch, exist_ok=True)
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAIL", what)


def read_astropy(path, hdu=0):
    header = fits.getheader(path, hdu)
    unit = None if "BUNIT" in header and header["BUNIT"] else u.dimensionless_unscaled
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstropyWarning)
        return CCDData.read(path, hdu=hdu, unit=unit)


def same(a, b, exact):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return False
    return np.array_equal(a, b, equal_nan=True) if exact else np.allclose(a, b, rtol=1e-6, atol=0, equal_nan=True)


def astropy_to_ccdx(path, hdu=0, exact=True):
    name = os.path.basename(path)
    prefix = os.path.join(scratch, name)
    out = subprocess.run([tool, "dump", path, prefix], capture_output=True, text=True)
    check(out.returncode == 0, f"{name}: ccdx cannot read it: {out.stderr.strip()}")
    if out.returncode:
        return
    rows, cols, *unit = out.stdout.strip().split(maxsplit=2)
    ref = read_astropy(path, hdu)
    check((int(rows), int(cols)) == ref.data.shape, f"{name}: shape {rows}x{cols} vs {ref.data.shape}")
    check(u.Unit(unit[0] if unit else "") == ref.unit, f"{name}: unit {unit} vs {ref.unit}")
    shape = ref.data.shape
    check(same(np.fromfile(prefix + ".data", np.float64).reshape(shape), ref.data, exact), f"{name}: data differ")
    has_unc = os.path.exists(prefix + ".uncert")
    check(has_unc == (ref.uncertainty is not None), f"{name}: uncertainty presence differs")
    if has_unc and ref.uncertainty is not None:
        check(same(np.fromfile(prefix + ".uncert", np.float64).reshape(shape), ref.uncertainty.array, exact),
              f"{name}: uncertainty differs")
    has_mask = os.path.exists(prefix + ".mask")
    check(has_mask == (ref.mask is not None), f"{name}: mask presence differs")
    if has_mask and ref.mask is not None:
        check(np.array_equal(np.fromfile(prefix + ".mask", np.uint8).reshape(shape) != 0, ref.mask),
              f"{name}: mask differs")
    for suffix in (".data", ".uncert", ".mask"):
        if os.path.exists(prefix + suffix):
            os.remove(prefix + suffix)


def ccdx_to_astropy(source, options, hdu=0, exact=True):
    label = f"{os.path.basename(source)} written with {options or ['defaults']}"
    target = os.path.join(scratch, "written.fits")
    out = subprocess.run([tool, "write", source, target, *options], capture_output=True, text=True)
    check(out.returncode == 0, f"{label}: ccdx cannot write it: {out.stderr.strip()}")
    if out.returncode:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a bad checksum or a malformed card is a warning in astropy
        with fits.open(target, checksum=True) as hdus:
            hdus.verify("exception")
    ref = read_astropy(source)
    got = read_astropy(target, hdu)
    check(got.unit == ref.unit, f"{label}: unit {got.unit} vs {ref.unit}")
    check(same(got.data, ref.data, exact), f"{label}: data differ")
    check((got.uncertainty is None) == (ref.uncertainty is None), f"{label}: uncertainty presence differs")
    if got.uncertainty is not None and ref.uncertainty is not None:
        check(type(got.uncertainty).__name__ == "StdDevUncertainty", f"{label}: uncertainty type")
        check(same(got.uncertainty.array, ref.uncertainty.array, exact), f"{label}: uncertainty differs")
    check((got.mask is None) == (ref.mask is None), f"{label}: mask presence differs")
    if got.mask is not None and ref.mask is not None:
        check(np.array_equal(got.mask, ref.mask), f"{label}: mask differs")
    return target


# astropy -> ccdx
for name in sorted(os.listdir(golden)):
    if name.endswith(".fits"):
        astropy_to_ccdx(os.path.join(golden, name))
for name in ("feder_aspen_workshop/kelt-16-b-S001-R001-C084-r.fit.gz", "feder_aspen_workshop/combined_bias.fit.gz",
             "ccdproc_tests/a8280271.fits", "feder_msumastro/biastest1.fit"):
    astropy_to_ccdx(os.path.join(data, name))
astropy_to_ccdx(os.path.join(data, "fits_robustness/scale.fits"), exact=False)  # astropy scales in float32
astropy_to_ccdx(os.path.join(data, "fits_robustness/m13_rice.fits"), hdu=1)

# ccdx -> astropy
raw = os.path.join(golden, "raw.fits")
ccdx_to_astropy(raw, [])
ccdx_to_astropy(raw, ["float64"])
ccdx_to_astropy(raw, ["checksum"])
ccdx_to_astropy(raw, ["compress", "checksum"], hdu=1)  # astropy finds a tile-compressed image only with hdu=1
ccdx_to_astropy(os.path.join(golden, "expected_divide_images.fits"), [])  # dimensionless
written = ccdx_to_astropy(os.path.join(data, "ccdproc_tests/a8280271.fits"), ["uint16"])
if written:
    with fits.open(written) as hdus:
        check(hdus[0].data.dtype == np.uint16, f"uint16 output read by astropy as {hdus[0].data.dtype}")
flat = os.path.join(data, "feder_aspen_workshop/combined_flat_filter_r.fit.gz")
written = ccdx_to_astropy(flat, [])
if written:
    before, after = fits.getheader(flat), fits.getheader(written)
    for key in ("SUBDARK", "TRIM_IMAGE", "SUBTRACT_DARK", "IMAGETYP", "EXPTIME", "DATE-OBS"):
        check(after.get(key) == before.get(key), f"header card {key}: {after.get(key)!r} vs {before.get(key)!r}")
    check(list(after["HISTORY"]) == list(before["HISTORY"]), "HISTORY cards differ")
    check(after["BUNIT"] == "adu", f"BUNIT {after['BUNIT']!r}")

print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
