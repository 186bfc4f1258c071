// ccdproc's test_ccdmask.py: ccdmask on the ratio of two flats finds the planted bad pixels.
#include <doctest/doctest.h>

#include <array>

#include <xtensor/xview.hpp>

#include <ccdx/detect/ccdmask.hpp>

#include "ccdmask_flats.hpp"

using ccdproc_fixtures::ccdmask_flat1;
using ccdproc_fixtures::ccdmask_flat2;
using ccdx::ccdmask_options;
using ccdx::image;

namespace {

using plane = xt::xtensor<double, 2>;

plane as_plane(const std::array<std::array<int, 32>, 16>& rows)
{
    plane p = plane::from_shape({16, 32});
    for (std::size_t r = 0; r < 16; ++r)
        for (std::size_t c = 0; c < 32; ++c) p(r, c) = rows[r][c];
    return p;
}

// flat1.divide(flat2): pixel by pixel, dimensionless.
image<double> ratio_of(const plane& a, const plane& b)
{
    image<double> r(16, 32, ccdx::unit());
    r.data() = a / b;
    return r;
}

ccdmask_options sized(std::size_t ncsig, std::size_t nlsig, bool findbadcolumns = false, bool byblocks = false)
{
    ccdmask_options o;
    o.ncsig = ncsig;
    o.nlsig = nlsig;
    o.findbadcolumns = findbadcolumns;
    o.byblocks = byblocks;
    return o;
}

}  // namespace

TEST_CASE("test_ccdmask_pixels")
{
    plane flat1 = as_plane(ccdmask_flat1), flat2 = as_plane(ccdmask_flat2);
    xt::xtensor<bool, 2> target = xt::zeros<bool>({16, 32});

    // No bad pixels, for two window sizes.
    auto mask = ccdx::ccdmask(ratio_of(flat1, flat2), sized(9, 11));
    CHECK(mask.shape() == target.shape());
    CHECK(mask == target);
    mask = ccdx::ccdmask(ratio_of(flat1, flat2), sized(11, 15));
    CHECK(mask.shape() == target.shape());
    CHECK(mask == target);

    // One bad pixel.
    flat1(14, 3) = 65535;
    flat2(14, 3) = 1;
    target(14, 3) = true;
    CHECK(ccdx::ccdmask(ratio_of(flat1, flat2), sized(11, 15)) == target);

    // One bad column, found with every combination of byblocks and findbadcolumns.
    xt::view(flat1, xt::all(), 7) = 65535.0;
    xt::view(flat2, xt::all(), 7) = 1.0;
    xt::view(target, xt::all(), 7) = true;
    const auto ratio = ratio_of(flat1, flat2);
    CHECK(ccdx::ccdmask(ratio, sized(11, 15)) == target);
    CHECK(ccdx::ccdmask(ratio, sized(11, 15, false, true)) == target);
    CHECK(ccdx::ccdmask(ratio, sized(11, 15, true, false)) == target);
    CHECK(ccdx::ccdmask(ratio, sized(11, 15, true, true)) == target);

    // A bad column with a gap of three good lines: findbadcolumns fills the gap.
    xt::view(flat1, xt::range(0, 8), 2) = 65535.0;
    xt::view(flat1, xt::range(11, 16), 2) = 65535.0;
    xt::view(flat2, xt::range(0, 8), 2) = 1.0;
    xt::view(flat2, xt::range(11, 16), 2) = 1.0;
    const auto gapped = ratio_of(flat1, flat2);
    xt::view(target, xt::range(0, 8), 2) = true;
    xt::view(target, xt::range(11, 16), 2) = true;
    CHECK(ccdx::ccdmask(gapped, sized(11, 15, false)) == target);
    xt::view(target, xt::all(), 2) = true;
    CHECK(ccdx::ccdmask(gapped, sized(11, 15, true)) == target);
}
