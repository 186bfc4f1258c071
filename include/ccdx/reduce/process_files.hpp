#pragma once
// process_files: ccd_process over a night of raw frames, file to file, as a pipeline. Reading,
// the pass and writing each take tens of milliseconds for a 4096² frame; one after the other
// they add up, side by side the slowest sets the pace. So while the pass runs over frame i (on
// OpenMP's threads), frame i+1 is read and frame i-1 written, each on a thread of its own.
//
//     ccdx::process_options<float> p;  p.master_bias = &bias;  p.master_flat = &flat;  ...
//     ccdx::process_files_options o;  o.output_folder = "reduced";
//     std::vector<std::filesystem::path> written = ccdx::process_files(raw_files, p, o);
//
// Memory: at most two raw frames and two reduced ones exist at any time (for 4096² frames
// reduced with uncertainty and mask: 2 x 64 MiB + 2 x 144 MiB), beside the masters; their
// buffers pass from frame to frame, so a night faults its pages in once, not once a frame.
//
// Nothing is lost: every output is checked before the first read (a run does not stop half
// done because its tenth output exists, or would replace its own input); a failure in any
// stage stops the run with the first error, naming the frame; the files written before it are
// complete and none is half-written (every write is staged, then renamed into place).

#include <condition_variable>
#include <cstddef>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ccdx/core/detail/text.hpp"
#include "ccdx/core/error.hpp"
#include "ccdx/core/image.hpp"
#include "ccdx/expr/evaluate.hpp"
#include "ccdx/io/collection.hpp"
#include "ccdx/io/detail/fits_records.hpp"
#include "ccdx/io/fits.hpp"
#include "ccdx/reduce/process.hpp"

namespace ccdx {

struct process_files_options {
    std::filesystem::path output_folder;  // must exist
    // Each output takes its input's file name, with `suffix` before its FITS ending ("_red":
    // raw1.fits -> raw1_red.fits) and without a whole-file compression ending (ccdx writes
    // none: raw1.fits.gz -> raw1.fits); tile-compressed outputs (write.compress) end in .fz.
    std::string suffix;
    read_options read;                    // how the raw frames are read (e.g. unit_if_none)
    write_options write;                  // how the reduced frames are written (e.g. overwrite)
    // Called on the writing thread after each output is in place: (frames done, frames, output).
    std::function<void(std::size_t, std::size_t, const std::filesystem::path&)> progress;
};

namespace detail {

// Items passed from one stage to the next, first in first out. stop() ends every wait: a
// stage that failed stops the others.
template <class V>
class stage_queue {
public:
    void put(V v)
    {
        {
            const std::lock_guard<std::mutex> lock(m_);
            items_.push_back(std::move(v));
        }
        ready_.notify_one();
    }
    // The next item; nothing once stopped.
    std::optional<V> take()
    {
        std::unique_lock<std::mutex> lock(m_);
        ready_.wait(lock, [&] { return stopped_ || !items_.empty(); });
        if (stopped_) return std::nullopt;
        V v = std::move(items_.front());
        items_.pop_front();
        return v;
    }
    void stop()
    {
        {
            const std::lock_guard<std::mutex> lock(m_);
            stopped_ = true;
        }
        ready_.notify_all();
    }

private:
    std::mutex m_;
    std::condition_variable ready_;
    std::deque<V> items_;
    bool stopped_ = false;
};

// Rethrows the ccdx error being handled with the frame named first, keeping its type.
[[noreturn]] inline void rethrow_naming(const std::filesystem::path& frame)
{
    const auto named = [&](const std::exception& e) { return "frame " + quoted(frame) + ": " + e.what(); };
    try {
        throw;
    } catch (const fits_error&) {
        throw;  // names its file already
    } catch (const unit_error& e) {
        throw unit_error(named(e));
    } catch (const shape_error& e) {
        throw shape_error(named(e));
    } catch (const keyword_error& e) {
        throw keyword_error(named(e));
    } catch (const section_error& e) {
        throw section_error(named(e));
    } catch (const value_error& e) {
        throw value_error(named(e));
    } catch (const error& e) {
        throw error(named(e));
    }
}

// The file name of `frame`'s output (see process_files_options::suffix).
inline std::string output_name(const std::filesystem::path& frame, const process_files_options& o)
{
    std::string name = frame.filename().string();
    for (bool again = true; again;) {
        again = false;
        for (const char* packed : {".gz", ".bz2", ".Z", ".fz"})
            if (name.size() > std::strlen(packed) && iends_with(name, packed)) {
                name.resize(name.size() - std::strlen(packed));
                again = true;
            }
    }
    const auto dot = name.rfind('.');
    const bool has_ending = dot != std::string::npos && dot != 0;
    const std::string stem = has_ending ? name.substr(0, dot) : name;
    const std::string ending = has_ending ? name.substr(dot) : ".fits";
    return stem + o.suffix + ending + (o.write.compress ? ".fz" : "");
}

// Where each frame's output goes, every one checked before any work begins.
inline std::vector<std::filesystem::path> planned_outputs(const std::vector<std::filesystem::path>& frames,
                                                          const process_files_options& o)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(o.output_folder, ec))
        throw fits_error("output folder " + quoted(o.output_folder) + " does not exist");
    std::vector<fs::path> outputs;
    std::set<fs::path> names;
    for (const fs::path& frame : frames) {
        const fs::path out = o.output_folder / output_name(frame, o);
        if (!names.insert(out.filename()).second)
            throw fits_error("two frames would be written to " + quoted(out) + " (the second is " + quoted(frame) + ")");
        if (fs::exists(out, ec) && fs::equivalent(out, frame, ec))
            throw fits_error(quoted(out) + " would replace its own input; choose another output folder");
        if (fs::exists(out, ec) && !o.write.overwrite)
            throw fits_error(quoted(out) + " exists; set write_options::overwrite to replace it");
        outputs.push_back(out);
    }
    return outputs;
}

}  // namespace detail

// Reduces each of `frames` with ccd_process(frame, options_for(frame)) into output_folder,
// pipelined (see the top of this header); returns the outputs, in the frames' order. The
// options may follow each frame's header (its BIASSEC, its GAIN, ...):
//
//     ccdx::process_files<float>(files, [&](const ccdx::image<float>& raw) {
//         ccdx::process_options<float> q = p;  q.oscan = raw.header().value<std::string>("BIASSEC");
//         return q;
//     }, o);
template <class T>
std::vector<std::filesystem::path> process_files(const std::vector<std::filesystem::path>& frames,
                                                 const std::function<process_options<T>(const image<T>&)>& options_for,
                                                 const process_files_options& o = {})
{
    const std::vector<std::filesystem::path> outputs = detail::planned_outputs(frames, o);
    struct frame_in_flight {
        std::size_t index = 0;
        image<T> pixels;
    };
    // Two raw and two reduced images circulate: the spares bound the memory in flight.
    detail::stage_queue<image<T>> spare_raw, spare_reduced;
    detail::stage_queue<frame_in_flight> read, reduced;
    for (int k = 0; k < 2; ++k) spare_raw.put(image<T>{}), spare_reduced.put(image<T>{});

    std::mutex failure_lock;
    std::exception_ptr failure;
    const auto fail = [&] {
        {
            const std::lock_guard<std::mutex> lock(failure_lock);
            if (!failure) failure = std::current_exception();
        }
        for (auto* q : {&spare_raw, &spare_reduced}) q->stop();
        for (auto* q : {&read, &reduced}) q->stop();
    };
    // A stage runs until its work is done or another stage fails.
    const auto stage = [&](auto&& work) {
        try {
            work();
        } catch (...) {
            fail();
        }
    };

    std::thread reader([&] {
        stage([&] {
            for (std::size_t i = 0; i < frames.size(); ++i) {
                std::optional<image<T>> raw = spare_raw.take();
                if (!raw) return;
                read_fits_into(frames[i], *raw, o.read);
                read.put({i, std::move(*raw)});
            }
        });
    });
    std::thread writer([&] {
        stage([&] {
            for (std::size_t done = 1; done <= frames.size(); ++done) {
                std::optional<frame_in_flight> f = reduced.take();
                if (!f) return;
                write_fits(f->pixels, outputs[f->index], o.write);
                if (o.progress) o.progress(done, frames.size(), outputs[f->index]);
                spare_reduced.put(std::move(f->pixels));
            }
        });
    });
    stage([&] {
        for (std::size_t n = 0; n < frames.size(); ++n) {
            std::optional<frame_in_flight> raw = read.take();
            std::optional<image<T>> out = raw ? spare_reduced.take() : std::nullopt;
            if (!out) return;
            try {
                eval_into(ccd_process(raw->pixels, options_for(raw->pixels)), *out);
            } catch (const error&) {
                detail::rethrow_naming(frames[raw->index]);
            }
            out->set_name(raw->pixels.name());
            spare_raw.put(std::move(raw->pixels));
            reduced.put({raw->index, std::move(*out)});
        }
    });
    reader.join();
    writer.join();
    if (failure) std::rethrow_exception(failure);
    return outputs;
}

// The same with one set of options for every frame.
template <class T>
std::vector<std::filesystem::path> process_files(const std::vector<std::filesystem::path>& frames,
                                                 const process_options<T>& p, const process_files_options& o = {})
{
    return process_files<T>(frames, [&p](const image<T>&) { return p; }, o);
}

// The same over the files of a collection (filtered, say, to the night's light frames).
template <class T>
std::vector<std::filesystem::path> process_files(const image_collection& frames, const process_options<T>& p,
                                                 const process_files_options& o = {})
{
    return process_files(frames.paths(), p, o);
}

}  // namespace ccdx
