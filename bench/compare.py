#!/usr/bin/env python3
"""ccdx against ccdproc/astropy, cfitsio and the storage's floor, on one generated night, in one run.

    python3 bench/compare.py BUILD_DIR [--out FOLDER] [--frames 20] [--repetitions 3]

(`cmake --build BUILD_DIR --target compare` builds what it needs and runs it.) The benchmarks
write a realistic night into a scratch folder: 16-bit BZERO raws with bias level, read noise, dark
current and hot pixels, vignetted flats, stars and sky (bench_night), stacks of bias frames
(bench_combine) and single frames (bench_fits). Each operation is then timed, in the same run:

  floor             read() or write() of the same bytes with one large buffer
  ccdx (1 thread)   OMP_NUM_THREADS=1 (process_files still reads and writes on threads of its own)
  ccdx (all)        every core
  cfitsio           ccdx with its direct path off, so that cfitsio moves and converts the pixels
  ccdproc/astropy   Debian's python3-ccdproc on the same files; "not installed" when absent

Prints one table, writes it as compare.md and compare.csv, and draws compare.png (bench_chart).
ccdx's times are the median of --repetitions runs of Google Benchmark; the reference's, one run
(the ccdproc rows take minutes). Bandwidth is in SI units (1 GB/s = 10^9 bytes per second).
"""

import argparse
import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile

FLOOR, ONE, ALL, CFITSIO, REF = "floor", "ccdx (1 thread)", "ccdx (all)", "cfitsio", "ccdproc/astropy"
CONTENDERS = [FLOOR, ONE, ALL, CFITSIO, REF]


def run_bench(build, name, pattern, env, repetitions):
    """{benchmark name: (median real time in ms, counters)} of one bench binary."""
    exe = os.path.join(build, "bench", name)
    out = subprocess.run([exe, "--benchmark_filter=" + pattern, "--benchmark_format=json",
                          "--benchmark_repetitions=%d" % repetitions, "--benchmark_report_aggregates_only=true"],
                         env=env, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
    results = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name") != "median" and not (repetitions == 1 and b.get("run_type") == "iteration"):
            continue
        # "BM_combine_files_median/20/iterations:2/real_time" -> "BM_combine_files_median/20"
        key = "/".join(p for p in b["run_name"].split("/") if p != "real_time" and not p.startswith("iterations:"))
        results[key] = (b["real_time"] * scale[b["time_unit"]], b)
    return results


def run_reference(script, args, python):
    """The JSON lines a reference script prints."""
    out = subprocess.run([python, script] + args, check=True, stdout=subprocess.PIPE, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def has_ccdproc(python):
    return bool(python and shutil.which(python)) and \
        subprocess.run([python, "-c", "import ccdproc"], stderr=subprocess.DEVNULL).returncode == 0


def machine():
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
                 platform.processor())
    mem_kb = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    return "%s, %d cores, %.0f GB of memory, Linux %s" % (model, os.cpu_count(), mem_kb * 1024 / 1e9,
                                                          platform.release())


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("build")
    ap.add_argument("--out", default=None, help="where compare.md, .csv and .png go (default: BUILD/compare)")
    ap.add_argument("--frames", type=int, default=20, help="frames in the night (default 20)")
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--python", default=sys.executable, help="the interpreter with ccdproc (default: this one)")
    args = ap.parse_args()
    out_dir = args.out or os.path.join(args.build, "compare")
    os.makedirs(out_dir, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="ccdx-compare-")
    try:
        rows, bandwidth = measure(args, here, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report(rows, bandwidth, args, out_dir)


def measure(args, here, scratch):
    env = dict(os.environ, CCDX_BENCH_DIR=scratch, CCDX_BENCH_NIGHT_FRAMES=str(args.frames))
    fits_pattern = "^(floor_read_reduced|read_reduced/[01]|floor_write_reduced|write_reduced/[01]|floor_read_raw|" \
                   "read_raw_uint16/[01]|read_raw_gz/[01])/"
    night_pattern = "^(floor|pipelined)/"
    combine_pattern = "^BM_(floor_read_frames|combine_files_median|combine_files_sigma_clipped_average)/"
    t = {}
    for threads, label in ((1, ONE), (0, ALL)):
        e = dict(env)
        if threads:
            e["OMP_NUM_THREADS"] = str(threads)
        else:
            e.pop("OMP_NUM_THREADS", None)
        print("timing %s ..." % label, file=sys.stderr)
        for name, pattern in (("bench_fits", fits_pattern), ("bench_night", night_pattern),
                              ("bench_combine", combine_pattern)):
            for key, value in run_bench(args.build, name, pattern, e, args.repetitions).items():
                t[(label, key)] = value
    bandwidth = max(b["machine_GBps"] for _, b in t.values() if "machine_GBps" in b)

    ref = {}
    if has_ccdproc(args.python):
        print("timing ccdproc/astropy (minutes) ...", file=sys.stderr)
        ref.update(run_reference(os.path.join(here, "fits_reference.py"), [os.path.join(scratch, "fits"),
                                                                           "--repeat", "3"], args.python)[0])
        night = run_reference(os.path.join(here, "night_reference.py"), [os.path.join(scratch, "night")], args.python)[0]
        ref["night_ms"], ref["night_peak"] = night["night_ms"], night["peak_MB"]
        for line in run_reference(os.path.join(here, "combine_reference.py"), [os.path.join(scratch, "combine")],
                                  args.python):
            ref[line["kind"] + "_ms"], ref[line["kind"] + "_peak"] = 1000 * line["seconds"], line["peak_MB"]

    def ccdx(label, key):
        v = t.get((label, key))
        return (v[0], v[1].get("peak_MB")) if v else (None, None)

    def row(operation, target, floor_key, ccdx_key, cfitsio_key=None, ref_key=None, ref_peak=None):
        r = {"operation": operation, "target": target, FLOOR: ccdx(ALL, floor_key) if floor_key else (None, None),
             ONE: ccdx(ONE, ccdx_key), ALL: ccdx(ALL, ccdx_key),
             CFITSIO: ccdx(ALL, cfitsio_key) if cfitsio_key else (None, None),
             REF: (ref.get(ref_key), ref.get(ref_peak)) if ref else ("not installed", None)}
        if ref and ref_key is None:
            r[REF] = (None, None)
        return r

    n = args.frames
    rows = [
        row("read raw 4096^2 uint16 frame", "<= 2x floor", "floor_read_raw", "read_raw_uint16/1", "read_raw_uint16/0",
            "read_raw_uint16_ms"),
        row("read raw .gz frame", ">= 2x faster than cfitsio", None, "read_raw_gz/1", "read_raw_gz/0", "read_raw_gz_ms"),
        row("read reduced frame (data, uncert, mask)", "<= 2x floor", "floor_read_reduced", "read_reduced/1",
            "read_reduced/0", "read_reduced_ms"),
        row("write reduced frame", "<= 1.5x floor", "floor_write_reduced", "write_reduced/1", "write_reduced/0",
            "write_reduced_ms"),
        row("reduce a night of %d frames, file to file" % n, ">= 60% of floor, >= 20x ccdproc", "floor",
            "pipelined", None, "night_ms", "night_peak"),
        row("median of 20 frames from files", "<= 3x floor, >= 150x ccdproc", "BM_floor_read_frames/20",
            "BM_combine_files_median/20", None, "median_ms", "median_peak"),
        row("3-sigma-clipped average of 10 from files", "<= 3x floor, >= 150x ccdproc", "BM_floor_read_frames/10",
            "BM_combine_files_sigma_clipped_average/10", None, "sigma_ms", "sigma_peak"),
    ]
    return rows, bandwidth


def fmt_ms(v):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    return "%.0f ms" % v if v < 1000 else "%.2f s" % (v / 1000)


def ratio(a, b):
    return a / b if isinstance(a, float) and isinstance(b, float) and b > 0 else None


def report(rows, bandwidth, args, out_dir):
    head = ["operation", FLOOR, ONE, ALL, CFITSIO, REF, "ccdx / floor (% of floor's speed)", "speed-up on ccdproc",
            "peak MB (ccdx, ccdproc)", "target"]
    lines = []
    for r in rows:
        best = r[ALL][0]
        vs_floor = ratio(best, r[FLOOR][0])
        vs_ref = ratio(r[REF][0], best)
        peak = "%s, %s" % ("%.0f" % r[ALL][1] if r[ALL][1] else "-", "%.0f" % r[REF][1] if r[REF][1] else "-")
        lines.append([r["operation"]] + [fmt_ms(r[c][0]) for c in (FLOOR, ONE, ALL, CFITSIO, REF)] +
                     ["%.2fx (%.0f%%)" % (vs_floor, 100 / vs_floor) if vs_floor else "-",
                      "%.0fx" % vs_ref if vs_ref else "-", peak, r["target"]])
    desc = "%s; memory bandwidth (STREAM triad, all cores) %.1f GB/s; files in the page cache." % (machine(), bandwidth)

    widths = [max(len(str(x)) for x in col) for col in zip(head, *lines)]
    print(desc)
    for line in [head] + lines:
        print("  ".join(str(x).ljust(w) for x, w in zip(line, widths)))

    with open(os.path.join(out_dir, "compare.md"), "w") as md:
        md.write(desc + "\n\n| " + " | ".join(head) + " |\n|" + "---|" * len(head) + "\n")
        for line in lines:
            md.write("| " + " | ".join(line) + " |\n")
    csv_path = os.path.join(out_dir, "compare.csv")
    with open(csv_path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["operation", "contender", "median_ms", "ratio_to_floor", "peak_MB"])
        for r in rows:
            for c in CONTENDERS:
                ms, peak = r[c]
                if isinstance(ms, float):
                    q = ratio(ms, r[FLOOR][0])
                    w.writerow([r["operation"], c, "%.3f" % ms, "%.3f" % q if q else "", "%.0f" % peak if peak else ""])
    chart = os.path.join(args.build, "bench", "bench_chart")
    png = os.path.join(out_dir, "compare.png")
    subprocess.run([chart, csv_path, png], check=True)
    print("written: %s, compare.csv, compare.png" % os.path.join(out_dir, "compare.md"))


if __name__ == "__main__":
    main()
