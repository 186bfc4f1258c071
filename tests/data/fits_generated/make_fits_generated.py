"""Writes the small FITS files in this folder with astropy (run: python3 make_fits_generated.py).

Each file exercises one reading rule of ccdx's FITS layer; values are chosen so that the
expected result is obvious by hand (see tests/test_fits.cpp)."""
import numpy as np
from astropy.io import fits

data = np.arange(12, dtype=np.float32).reshape(3, 4) + 100   # 100 .. 111
def primary(bunit='adu'):
    h = fits.PrimaryHDU(data)
    if bunit is not None:
        h.header['BUNIT'] = bunit
    return h

def uncert(values, utype):
    h = fits.ImageHDU(np.asarray(values, dtype=np.float32), name='UNCERT')
    if utype is not None:
        h.header['UTYPE'] = utype
    return h

square = np.array([[4, 9, 16, 25]] * 3, dtype=np.float32)          # std 2, 3, 4, 5
fits.HDUList([primary(), uncert(square, 'VarianceUncertainty')]).writeto('variance.fits', overwrite=True)
fits.HDUList([primary(), uncert(1 / square, 'InverseVariance')]).writeto('inverse_variance.fits', overwrite=True)
fits.HDUList([primary(), uncert(square, 'WeirdUncertainty')]).writeto('unknown_utype.fits', overwrite=True)
fits.HDUList([primary(), uncert(square, None)]).writeto('no_utype.fits', overwrite=True)
fits.HDUList([primary(), uncert(np.ones((2, 4)), 'StdDevUncertainty')]).writeto('uncert_wrong_shape.fits', overwrite=True)
mask = np.array([[0, 3, 300, -1], [0, 0, 1, 0], [0, 0, 0, 255]], dtype=np.int16)
fits.HDUList([primary(), fits.ImageHDU(mask, name='MASK')]).writeto('mask_int16.fits', overwrite=True)
fits.HDUList([primary('adu//')]).writeto('bad_bunit.fits', overwrite=True)
fits.HDUList([primary(None)]).writeto('no_bunit.fits', overwrite=True)

# Tile-compressed 20 x 30 int16 images in every codec, with edge tiles smaller than the rest
# (tiles of 8 rows x 16 columns): small enough to seed the fuzzer, which damages their tiles.
tiled = (np.arange(600, dtype=np.int16).reshape(20, 30) * 7) % 1000
for codec in ('RICE_1', 'GZIP_1', 'GZIP_2', 'PLIO_1', 'HCOMPRESS_1'):
    hdu = fits.CompImageHDU(tiled, compression_type=codec, tile_size=(16, 8))  # ZTILE1, ZTILE2
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto('tiled_%s.fits' % codec.lower(), overwrite=True)
