// error: ccdx node protocol: missing `template <bool V, bool M, class B> part<B> load
// A node of the user's own that has every member but load<V, M, B>.
#include <ccdx/expr/expression.hpp>

struct constant_node : ccdx::expression {
    using value_type = void;
    static constexpr bool exact = true;
    static constexpr int precedence = ccdx::detail::precedence::primary;
    ccdx::shape2 shape() const { return {ccdx::detail::any_extent, ccdx::detail::any_extent}; }
    const ccdx::unit& unit() const { return unit_; }
    bool has_variance() const { return false; }
    bool has_mask() const { return false; }
    std::string to_string() const { return "k"; }
    const ccdx::header* first_header() const { return nullptr; }
    void add_cards(ccdx::header&) const {}
    template <class F>
    void visit_planes(F&&, std::ptrdiff_t, std::ptrdiff_t) const {}
    ccdx::unit unit_;
};

int main()
{
    ccdx::image<float> raw(2, 2);
    ccdx::image<float> out = raw - constant_node{};
    return static_cast<int>(out.rows());
}
