// Combining in memory with only combine_images.hpp included.
#include <ccdx/stack/combine_images.hpp>

#include <doctest/doctest.h>

#include <vector>

TEST_CASE("combine in memory, with only combine_images.hpp: median and average of three frames")
{
    std::vector<ccdx::image<float>> stack;
    for (float v : {1.0f, 4.0f, 10.0f}) {
        ccdx::image<float> img(2, 3, ccdx::unit("adu"));
        img.data().fill(v);
        stack.push_back(img);
    }
    ccdx::combine_options o;
    o.method = ccdx::combine_method::median;
    const auto median = ccdx::combine(stack, o);
    CHECK(median.data()(1, 2) == 4);
    CHECK(median.unit() == ccdx::unit("adu"));
    o.method = ccdx::combine_method::average;
    CHECK(ccdx::combine(stack, o).data()(0, 0) == 5);
}
