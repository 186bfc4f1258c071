#!/usr/bin/env python3
"""Time ccdproc.combine on the frames bench_combine writes, for a side-by-side comparison.

    python3 bench/combine_reference.py [FOLDER] [--mem-limit BYTES] [--only median|sigma]

FOLDER holds raw_00.fits ... raw_19.fits (4096 x 4096, uint16 with BZERO = 32768), as
bench_combine leaves them in $CCDX_BENCH_DIR/combine (the default FOLDER).
Runs, each in a fresh process so that its peak memory is its own:

  median   the median of the 20 frames
  sigma    the average of the first 10 frames with 3-sigma clipping (one pass about the mean,
           with the standard deviation: ccdproc's Combiner defaults, given as strings so that
           astropy takes its fast path)

and prints the wall time (s) and the peak resident memory (MB) of each, one JSON line each. Works with Debian's
python3-ccdproc (2.4) and later versions.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time


def run_one(kind, folder, mem_limit):
    import warnings

    import ccdproc
    from astropy import log
    from astropy import units as u

    warnings.simplefilter("ignore")
    log.setLevel("WARNING")  # one INFO line per file read would drown the figures
    if kind == "median":
        files = [os.path.join(folder, "raw_%02d.fits" % i) for i in range(20)]
        kwargs = dict(method="median")
    else:
        files = [os.path.join(folder, "raw_%02d.fits" % i) for i in range(10)]
        kwargs = dict(method="average", sigma_clip=True, sigma_clip_low_thresh=3,
                      sigma_clip_high_thresh=3, sigma_clip_func="mean", sigma_clip_dev_func="std")
    if mem_limit:
        kwargs["mem_limit"] = mem_limit
    start = time.perf_counter()
    result = ccdproc.combine(files, unit=u.adu, **kwargs)
    elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6
    print(json.dumps({"kind": kind, "frames": len(files), "shape": list(result.shape), "seconds": elapsed,
                      "peak_MB": peak_mb, "ccdproc": ccdproc.__version__}))
    sys.stdout.flush()


def main():
    default = os.path.join(os.environ.get("CCDX_BENCH_DIR") or tempfile.gettempdir(), "combine")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", default=default)
    parser.add_argument("--mem-limit", type=float, default=None,
                        help="ccdproc's mem_limit in bytes (its default is 16e9)")
    parser.add_argument("--only", choices=["median", "sigma"])
    parser.add_argument("--child", choices=["median", "sigma"], help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        run_one(args.child, args.folder, args.mem_limit)
        return
    if not os.path.exists(os.path.join(args.folder, "raw_19.fits")):
        sys.exit("no frames in %s: run bench_combine first (it writes them)" % args.folder)
    for kind in ([args.only] if args.only else ["median", "sigma"]):
        command = [sys.executable, __file__, args.folder, "--child", kind]
        if args.mem_limit:
            command += ["--mem-limit", str(args.mem_limit)]
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
