#pragma once
// The single pass: rows x SIMD batches with a scalar tail, one of four kernels (with/without
// variance x with/without mask) chosen once per evaluation, rows split across threads under
// OpenMP. Elementwise work gives the same result whatever the split.

#include <algorithm>
#include <cstddef>
#include <type_traits>
#include <utility>

#include <xsimd/xsimd.hpp>

#ifdef CCDX_USE_OPENMP
#include <omp.h>
#endif

#include "ccdx/core/detail/threads.hpp"
#include "ccdx/expr/node.hpp"

namespace ccdx {

struct eval_options {
    int threads = 0;  // 0: OpenMP's default; 1: this thread only
};

namespace detail {

// Below this many pixels threads cost more than they bring.
inline constexpr std::size_t parallel_threshold = std::size_t(1) << 16;

template <bool V, bool M, class T, class E>
void evaluate_rows(const E& e, T* data, T* sigma, mask_t* mask, std::size_t r0, std::size_t r1, std::size_t cols) noexcept
{
    using B = xsimd::batch<T>;
    constexpr std::size_t N = B::size;
    for (std::size_t r = r0; r < r1; ++r) {
        const std::size_t row = r * cols;
        std::size_t c = 0;
        for (; c + N <= cols; c += N) {
            const part<B> p = e.template load<V, M, B>(r, c);
            p.value.store_unaligned(data + row + c);
            if constexpr (V) square_root(p.variance).store_unaligned(sigma + row + c);
            if constexpr (M) p.mask.store(mask + row + c);
        }
        for (; c < cols; ++c) {
            const part<T> p = e.template load<V, M, T>(r, c);
            data[row + c] = p.value;
            if constexpr (V) sigma[row + c] = std::sqrt(p.variance);
            if constexpr (M) p.mask.store(mask + row + c);
        }
    }
}

template <bool V, bool M, class T, class E>
void run_kernel(const E& e, image<T>& out, const eval_options& options)
{
    T* data = out.data().data();
    T* sigma = V ? out.uncertainty().data() : nullptr;
    mask_t* mask = M ? out.mask().data() : nullptr;
    const std::size_t rows = out.rows(), cols = out.cols();
#ifdef CCDX_USE_OPENMP
    if (options.threads != 1 && out.size() >= parallel_threshold) {
        const int threads = thread_count(options.threads);
        const auto n = static_cast<std::ptrdiff_t>(rows);
#pragma omp parallel for num_threads(threads) schedule(static)
        for (std::ptrdiff_t r = 0; r < n; ++r)
            evaluate_rows<V, M>(e, data, sigma, mask, static_cast<std::size_t>(r), static_cast<std::size_t>(r) + 1, cols);
        return;
    }
#else
    (void)options;
#endif
    evaluate_rows<V, M>(e, data, sigma, mask, 0, rows, cols);
}

// Whether writing `out` while reading `e` is safe: every leaf plane that shares memory with an
// output plane must read exactly the element being written (same plane, origin, stride).
template <class T, class E>
bool writes_in_place_safely(const E& e, const image<T>& out)
{
    struct out_plane {
        plane_ref::kind_t kind;
        const void* lo;
        const void* hi;
    };
    out_plane planes[3];
    std::size_t n = 0;
    const std::size_t size = out.size();
    planes[n++] = {plane_ref::data, out.data().data(), out.data().data() + size};
    if (out.has_uncertainty()) planes[n++] = {plane_ref::sigma, out.uncertainty().data(), out.uncertainty().data() + size};
    if (out.has_mask()) planes[n++] = {plane_ref::mask, out.mask().data(), out.mask().data() + size};

    bool safe = true;
    const bool same_shape = out.shape() == e.shape();
    e.visit_planes(
        [&](const plane_ref& p) {
            for (std::size_t i = 0; i < n; ++i) {
                const out_plane& q = planes[i];
                if (std::less<const void*>{}(p.lo, q.hi) && std::less<const void*>{}(q.lo, p.hi)) {
                    safe = safe && same_shape && p.kind == q.kind && p.origin == q.lo && p.col_step == 1 &&
                           p.row_stride == static_cast<std::ptrdiff_t>(out.cols());
                }
            }
        },
        0, 0);
    return safe;
}

template <class T, class E>
void evaluate_into(const E& e, image<T>& out, const eval_options& options)
{
    static_assert(check_node<E>());
    const shape2 s = e.shape();
    if (s[0] == any_extent || s[1] == any_extent)
        throw shape_error("cannot evaluate " + e.to_string() + ": its shape " + shape_text(s) +
                          " is not fixed by any image");
    if (!writes_in_place_safely(e, out)) {
        image<T> fresh;
        evaluate_into(e, fresh, options);
        fresh.set_name(out.name());
        out = std::move(fresh);
        return;
    }

    const bool variance = e.has_variance(), mask = e.has_mask();
    ccdx::header h = e.first_header() ? *e.first_header() : ccdx::header{};
    e.add_cards(h);

    if (out.shape() != s) {
        out.drop_uncertainty();
        out.drop_mask();
        out.data() = image<T>::plane::from_shape({s[0], s[1]});
    }
    if (variance && !out.has_uncertainty()) out.set_uncertainty(image<T>::plane::from_shape({s[0], s[1]}));
    if (mask && !out.has_mask()) out.set_mask(image<T>::mask_plane::from_shape({s[0], s[1]}));

    if (variance && mask)
        run_kernel<true, true>(e, out, options);
    else if (variance)
        run_kernel<true, false>(e, out, options);
    else if (mask)
        run_kernel<false, true>(e, out, options);
    else
        run_kernel<false, false>(e, out, options);

    if (!variance) out.drop_uncertainty();
    if (!mask) out.drop_mask();
    out.set_unit(e.unit());
    out.header() = std::move(h);
}

template <class T, class E>
using eval_value_t = std::conditional_t<
    !std::is_void_v<T>, T,
    std::conditional_t<std::is_void_v<typename E::value_type>, float, typename E::value_type>>;

}  // namespace detail

// Evaluates an expression in one pass into a new image (float unless an operand is double,
// or T chosen explicitly: eval<double>(e)).
template <class T = void, class E>
auto eval(const E& e, const eval_options& options = {})
{
    static_assert(is_expression<E>::value, "eval() takes a ccdx expression such as `raw - bias`; an image is already "
                                     "evaluated (copy it, or eval(view(img, section)) for a part of it)");
    image<detail::eval_value_t<T, E>> out;
    detail::evaluate_into(e, out, options);
    return out;
}

// Evaluates into an existing image, reusing its buffers when the shapes agree.
template <class T, class E, class = std::enable_if_t<is_expression<E>::value>>
void eval_into(const E& e, image<T>& out, const eval_options& options = {})
{
    detail::evaluate_into(e, out, options);
}

template <class T>
template <class E, class>
image<T>::image(const E& expression)
{
    detail::evaluate_into(expression, *this, {});
}

template <class T>
template <class E, class>
image<T>& image<T>::operator=(const E& expression)
{
    detail::evaluate_into(expression, *this, {});
    return *this;
}

}  // namespace ccdx
