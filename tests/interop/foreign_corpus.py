"""The foreign corpus: every FITS file that astropy's and ccdproc's test suites ship, read by ccdx.

    foreign_corpus.py <foreign_reader> <scratch dir>

The files are found in the installed packages (never copied into ccdx): every file named like a
FITS file (.fits, .fit, .fts, .fz, optionally compressed) and every other data file that begins
with a SIMPLE card (the FITS headers astropy's WCS tests keep as .hdr files). Each file is read
by ccdx (foreign_reader, one process per read) in every HDU astropy sees, one HDU past them, and
as read_fits chooses by default. Every read must end cleanly: pixels, or a ccdx::error that names
the file. A crash, a signal, a hang, or any other exception fails the test.

Where astropy reads an HDU as a numeric image of 2-D shape (or 1-D, or N-D with all axes beyond
the second of length 1, as ccdx reads it), ccdx must read the same pixels: NaN where astropy has
NaN and where the stored integer is BLANK (ccdx turns BLANK into NaN also where astropy keeps the
raw integer: unscaled integer data); equal values, exactly for stored floats and unscaled
integers, within the rounding of astropy's float type for scaled integers (astropy scales 8- and
16-bit integers in float32). ccdx refusing such an image fails the test unless KNOWN_REFUSALS
lists it. Where astropy reads no image (a table, random groups, a cube, an empty HDU, a file it
cannot open), ccdx must refuse, for one of the REASONS below, or, where astropy cannot read
the HDU at all, may read it (printed, not compared).

Prints one line per file, every file ccdx reads nothing from with the reasons, and a tally.
Exits 77 (skipped) when astropy or numpy is not installed; ccdproc's files are left out, with a
message, when ccdproc is not installed."""
import collections
import importlib.util
import os
import re
import subprocess
import sys
import time
import warnings

try:
    import numpy as np
    from astropy.io import fits
except ImportError as e:
    print(f"skipped: {e} (the foreign corpus is astropy's and ccdproc's test files)")
    sys.exit(77)

TIMEOUT = 60  # seconds for one read of a file of at most a few hundred kB

# Why ccdx refuses what it refuses: the deliberate cases, matched on its message. A refusal that
# matches none of them fails the test, so that a new kind is looked at and listed here.
REASONS = [
    (r"is a table, not an image", "a table: ccdx reads images"),
    (r"is a \d+-D array", "a cube: ccdx reads 2-D images (axes beyond the second must have length 1)"),
    (r"has an axis of length 0", "an axis of length 0 (random groups have NAXIS1 = 0): no pixels"),
    (r"has no data \(NAXIS = 0\)", "the HDU has no data (NAXIS = 0)"),
    (r"has no image data \(the primary HDU is empty", "no image HDU with data anywhere in the file"),
    (r"has no HDU \d+ \(it has \d+\)", "past the last HDU"),
    (r"is truncated: HDU \d+ needs \d+ bytes", "truncated: the header promises more bytes than the file holds"),
    (r"cannot be opened as FITS", "not a FITS file cfitsio opens (first cards not SIMPLE/BITPIX, or a header without its blocks)"),
]

# Images astropy reads that ccdx refuses on purpose: {(path relative to the package folder's
# parent, hdu or "default"): reason}. Empty: ccdx reads every image astropy reads.
KNOWN_REFUSALS = {}

FITS_NAME = re.compile(r"\.(fits|fit|fts|fz)(\.(gz|bz2|z|zip))?$", re.IGNORECASE)
NOT_DATA = (".py", ".pyc", ".pyi", ".so", ".pyx", ".c", ".h")


def package_folder(name):
    spec = importlib.util.find_spec(name)  # locates it without importing it
    return os.path.dirname(spec.origin) if spec and spec.origin else None


def begins_with_simple(path):
    try:
        with open(path, "rb") as f:
            return f.read(9) == b"SIMPLE  ="
    except OSError:
        return False


def corpus(folder):
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(names):
            path = os.path.join(root, name)
            if FITS_NAME.search(name) or (not name.endswith(NOT_DATA) and begins_with_simple(path)):
                yield path


class Image:
    """What astropy reads in one HDU: an image to compare (ref, within tol; None: exactly) or why
    there is none (kind). For scaled integers, also (scale*n + zero in float64, its terms' size)."""

    def __init__(self, kind, ref=None, tol=None, exact=None):
        self.kind, self.ref, self.tol, self.exact = kind, ref, tol, exact


def astropy_image(path, index, hdu):
    if isinstance(hdu, fits.GroupsHDU):
        return Image("random groups")
    is_image = isinstance(hdu, (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU))
    if not is_image:
        return Image("table" if isinstance(hdu, (fits.BinTableHDU, fits.TableHDU)) else type(hdu).__name__)
    header = hdu.header
    bitpix = header.get("BITPIX", 0)
    bscale, bzero, blank = header.get("BSCALE", 1), header.get("BZERO", 0), header.get("BLANK")
    try:
        data = hdu.data  # astropy drops BSCALE and BZERO from the header once it has scaled
    except Exception as e:
        return Image(f"astropy cannot read its data ({type(e).__name__}: {e})")
    if data is None:
        return Image("no data")
    if data.size == 0:
        return Image(f"no pixels (shape {data.shape})")
    if data.dtype.kind not in "biuf":
        return Image(f"not numeric ({data.dtype})")
    if any(n != 1 for n in data.shape[:-2]):
        return Image(f"{data.ndim}-D cube {data.shape}")
    rows, cols = (data.shape[-2] if data.ndim > 1 else 1), data.shape[-1]
    ref = np.array(data, dtype=np.float64).reshape(rows, cols)
    stored = None
    if bitpix > 0 and (blank is not None or data.dtype.kind == "f"):
        with fits.open(path, do_not_scale_image_data=True, memmap=False) as raw:
            stored = np.array(raw[index].data, dtype=np.float64).reshape(rows, cols)
    if stored is not None and blank is not None:
        ref[stored == blank] = np.nan  # astropy keeps BLANK in unscaled integers; ccdx gives NaN
    if data.dtype.kind != "f" or not (bitpix > 0 or bscale != 1 or bzero != 0 or isinstance(hdu, fits.CompImageHDU)):
        return Image("image", ref)
    # Floats computed from stored integers (scaled, or quantized in tiles), in astropy's float
    # type: within a few of its rounding steps of the largest term of scale*n + zero.
    tol = 4 * np.finfo(data.dtype).eps * (np.abs(ref) + abs(bzero))
    exact = None
    if stored is not None and not isinstance(hdu, fits.CompImageHDU):
        exact = (stored * bscale + bzero, np.abs(stored * bscale) + abs(bzero))  # as cfitsio scales
        if blank is not None:
            exact[0][stored == blank] = np.nan
    return Image("image", ref, tol, exact)


def astropy_view(path):
    """Every HDU as astropy sees it, and the one read_fits chooses by default (None: none)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with fits.open(path, memmap=False) as hdus:
                images = [astropy_image(path, i, h) for i, h in enumerate(hdus)]
                # A tile-compressed image's header is the image's (NAXIS is its ZNAXIS).
                extensions = [(isinstance(h, (fits.ImageHDU, fits.CompImageHDU)), h.header) for h in hdus]
        except Exception as e:
            return [], None, f"astropy cannot open it ({type(e).__name__}: {str(e)[:80]})"
    # read_fits: the primary HDU if NAXIS > 0, else the first image extension with NAXIS > 0
    # (tile-compressed ones included) that is not the UNCERT or MASK plane.
    chosen = None
    if extensions and extensions[0][1].get("NAXIS", 0) > 0:
        chosen = 0
    else:
        for i, (is_image, h) in enumerate(extensions[1:], 1):
            if is_image and h.get("NAXIS", 0) > 0 and str(h.get("EXTNAME", "")).upper() not in ("UNCERT", "MASK"):
                chosen = i
                break
    return images, chosen, None


def ccdx_read(tool, path, which, out):
    """(outcome, detail, pixels): outcome is read, refused or failed."""
    try:
        run = subprocess.run([tool, path, str(which), out], capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return "failed", f"no answer within {TIMEOUT} s", None
    lines = run.stdout.strip().splitlines()
    last = lines[-1] if lines else ""
    note = next((l[len("unit-refused "):] for l in lines if l.startswith("unit-refused ")), None)
    if run.returncode < 0:
        return "failed", f"killed by signal {-run.returncode}: {run.stderr.strip()[-300:]}", None
    if run.returncode == 0 and last.startswith("read "):
        rows, cols = map(int, last.split()[1:3])
        pixels = np.fromfile(out, dtype="<f8")
        os.remove(out)
        if pixels.size != rows * cols:
            return "failed", f"said {rows} x {cols} but wrote {pixels.size} pixels", None
        return "read", note, pixels.reshape(rows, cols)
    if run.returncode == 3 and last.startswith("refused "):
        message = last[len("refused "):]
        if path not in message:
            return "failed", f"refused without naming the file: {message}", None
        return "refused", message, None
    return "failed", f"exit {run.returncode}: {run.stdout.strip()} {run.stderr.strip()}"[:400], None


def compare(ref, got):
    if got.shape != ref.shape:
        return f"shape {got.shape[0]} x {got.shape[1]}, astropy {ref.shape[0]} x {ref.shape[1]}"
    nan_ref, nan_got = np.isnan(ref), np.isnan(got)
    if not np.array_equal(nan_ref, nan_got):
        where = np.argwhere(nan_ref != nan_got)[0]
        return f"NaN differs at (row, col) {tuple(where)}: astropy {ref[tuple(where)]}, ccdx {got[tuple(where)]}"
    return None


def differs(image, got):
    why = compare(image.ref, got)
    if why:
        return why
    ok = ~np.isnan(image.ref)
    diff = np.abs(got[ok] - image.ref[ok])
    limit = 0 if image.tol is None else image.tol[ok]
    bad = ~((got[ok] == image.ref[ok]) | (diff <= limit))
    if bad.any():
        k = np.flatnonzero(bad)[0]
        return (f"{int(bad.sum())} pixel(s) differ ({'exactly' if image.tol is None else 'beyond float tolerance'}): "
                f"first astropy {image.ref[ok][k]!r}, ccdx {got[ok][k]!r}")
    if image.exact is not None:
        # Scaled in float64 as cfitsio does it: equal but for a rounding step of the larger term.
        values, terms = image.exact
        ok = ~np.isnan(values)
        bad = np.abs(got[ok] - values[ok]) > 2 * np.finfo(np.float64).eps * terms[ok]
        if bad.any() or not np.array_equal(~ok, np.isnan(got)):
            return f"{int(bad.sum())} pixel(s) differ from scale * stored + zero computed in float64"
    return None


def reason_of(message):
    return next((why for pattern, why in REASONS if re.search(pattern, message)), None)


def main():
    tool, scratch = sys.argv[1:3]
    os.makedirs(scratch, exist_ok=True)
    out = os.path.join(scratch, "pixels.f64")
    started = time.monotonic()

    folders = {}
    for name in ("astropy", "ccdproc"):
        folder = package_folder(name)
        if folder:
            folders[name] = folder
        else:
            print(f"note: {name} is not installed; its test files are not in the corpus")
    files = [(name, path) for name, folder in folders.items() for path in corpus(folder)]

    failures, files_without_image, tally = [], [], collections.Counter()
    for package, path in files:
        shown = os.path.relpath(path, os.path.dirname(folders[package]))
        images, chosen, unopened = astropy_view(path)
        targets = ["default"] + list(range(max(len(images), 1) + 1))
        results, equal_any, read_any, reasons = [], False, False, {}
        for which in targets:
            if which == "default":
                image = images[chosen] if chosen is not None else Image(unopened or "no image HDU with data")
            else:
                image = images[which] if which < len(images) else Image(unopened or "past astropy's last HDU")
            outcome, detail, pixels = ccdx_read(tool, path, which, out)
            label = f"{shown} [{which}]"
            read_any |= outcome == "read"
            if outcome == "failed":
                failures.append(f"{label}: {detail}")
                results.append(f"{which}=FAILED")
            elif outcome == "read" and image.kind == "image":
                why = differs(image, pixels)
                if why:
                    failures.append(f"{label}: wrong pixels: {why}")
                    results.append(f"{which}=DIFFERS")
                else:
                    equal_any = True
                    tally["equal, exactly" if image.tol is None else "equal, within float tolerance (scaled integers)"] += 1
                    results.append(f"{which}={'equal' if image.tol is None else 'close'}")
                if detail:
                    tally["of them with a BUNIT ccdx refuses (read with an explicit unit)"] += 1
                    print(f"  note: {label}: BUNIT refused, pixels compared with an explicit unit: {detail}")
            elif outcome == "read" and image.kind.startswith("astropy cannot"):
                tally["read where astropy cannot (not compared)"] += 1
                results.append(f"{which}=read (astropy cannot)")
            elif outcome == "read":
                failures.append(f"{label}: ccdx reads {pixels.shape[0]} x {pixels.shape[1]} pixels where astropy "
                                f"sees {image.kind}")
                results.append(f"{which}=READ-NON-IMAGE")
            elif image.kind == "image":
                known = KNOWN_REFUSALS.get((shown, which))
                if known:
                    tally[f"refused, an image astropy reads: {known}"] += 1
                    results.append(f"{which}=refused ({known})")
                    reasons.setdefault(known, []).append(str(which))
                else:
                    failures.append(f"{label}: astropy reads a {image.ref.shape[0]} x {image.ref.shape[1]} image, "
                                    f"ccdx refuses it: {detail}")
                    results.append(f"{which}=REFUSED")
            elif reason_of(detail):
                reason = reason_of(detail)
                tally[f"refused, no image in astropy either: {reason}"] += 1
                results.append(f"{which}=refused")
                if reason != "past the last HDU":
                    reasons.setdefault(reason, []).append(str(which))
            else:
                failures.append(f"{label}: refused for a reason not listed in REASONS: {detail}")
                results.append(f"{which}=REFUSED-UNLISTED")
        print(f"{shown}: {' '.join(results)}")
        tally[f"files from {package}"] += 1
        if equal_any:
            tally["files equal"] += 1
        elif read_any:
            tally["files read only where astropy cannot"] += 1
        else:
            files_without_image.append((shown, reasons))

    print()
    print(f"files ccdx reads no image from, and why ({len(files_without_image)}):")
    for shown, reasons in files_without_image:
        why = "; ".join(f"HDU {', '.join(hdus)}: {reason}" for reason, hdus in reasons.items())
        print(f"  {shown}: {why or 'see the failures'}")
    print()
    found = ", ".join(f"{tally[f'files from {name}']} {name}" for name in folders)
    print(f"tally: {len(files)} files found ({found})")
    print(f"  {tally['files equal']:5d}  files with an image that ccdx reads equal to astropy's")
    print(f"  {len(files_without_image):5d}  files ccdx reads no image from")
    if tally["files read only where astropy cannot"]:
        print(f"  {tally['files read only where astropy cannot']:5d}  files read only where astropy cannot")
    print(f"  {sum(tally[k] for k in tally if not k.startswith(('files', 'of them'))):5d}  reads (an HDU each), of which:")
    for key in sorted(k for k in tally if not k.startswith("files")):
        print(f"  {tally[key]:9d}  {key}")
    print(f"  {len(failures):5d}  failures")
    print(f"time: {time.monotonic() - started:.1f} s")
    for f in failures:
        print("FAIL", f)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
