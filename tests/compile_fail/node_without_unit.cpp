// error: ccdx node protocol: missing `const unit& unit() const`
// A node of the user's own that forgot its unit.
#include <ccdx/expr/expression.hpp>

struct ones : ccdx::expression {
    using value_type = void;
    static constexpr bool exact = true;
    static constexpr int precedence = ccdx::detail::precedence::primary;
    ccdx::shape2 shape() const { return {ccdx::detail::any_extent, ccdx::detail::any_extent}; }
    bool has_variance() const { return false; }
    bool has_mask() const { return false; }
    std::string to_string() const { return "1"; }
    const ccdx::header* first_header() const { return nullptr; }
    void add_cards(ccdx::header&) const {}
    template <class F>
    void visit_planes(F&&, std::ptrdiff_t, std::ptrdiff_t) const {}
    template <bool V, bool M, class B>
    ccdx::part<B> load(std::size_t, std::size_t) const noexcept
    {
        ccdx::part<B> p;
        p.value = B(1);
        return p;
    }
};

int main()
{
    ccdx::image<float> out = ccdx::eval(ones{});
    return static_cast<int>(out.rows());
}
