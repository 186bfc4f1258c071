#pragma once
// The conformance registry: each area of the library registers the golden-case ops it
// implements, and runner.cpp runs every case of cases.json through them.
//
//   static const conformance::registrar r_bias{"subtract_bias", [](const conformance::golden_case& c) {
//       return ccdx::eval<double>(ccdx::subtract_bias(c.image("ccd"), c.image("master")));
//   }};

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <ccdx/io/fits.hpp>

namespace conformance {

// A JSON value, enough for cases.json: null, bool, number, string, array, object (keys in order).
class json {
public:
    using array = std::vector<json>;
    using object = std::vector<std::pair<std::string, json>>;

    json() = default;
    explicit json(bool b) : value_(b) {}
    explicit json(double d) : value_(d) {}
    explicit json(std::string s) : value_(std::move(s)) {}
    explicit json(array a) : value_(std::make_shared<array>(std::move(a))) {}
    explicit json(object o) : value_(std::make_shared<object>(std::move(o))) {}

    static json parse(std::string_view text);

    bool is_null() const { return std::holds_alternative<std::monostate>(value_); }
    bool is_bool() const { return std::holds_alternative<bool>(value_); }
    bool is_number() const { return std::holds_alternative<double>(value_); }
    bool is_string() const { return std::holds_alternative<std::string>(value_); }
    bool is_array() const { return std::holds_alternative<std::shared_ptr<array>>(value_); }
    bool is_object() const { return std::holds_alternative<std::shared_ptr<object>>(value_); }

    bool as_bool() const { return get<bool>("a boolean"); }
    double as_number() const { return get<double>("a number"); }
    const std::string& as_string() const { return get<std::string>("a string"); }
    const array& as_array() const { return *get<std::shared_ptr<array>>("an array"); }
    const object& as_object() const { return *get<std::shared_ptr<object>>("an object"); }

    // Object member, or nullptr when absent (or when this is not an object).
    const json* find(std::string_view key) const
    {
        if (!is_object()) return nullptr;
        for (const auto& [k, v] : as_object())
            if (k == key) return &v;
        return nullptr;
    }
    const json& operator[](std::string_view key) const
    {
        if (const json* v = find(key)) return *v;
        throw std::runtime_error("JSON: no member '" + std::string(key) + "'");
    }
    const json& operator[](std::size_t i) const
    {
        const array& a = as_array();
        if (i >= a.size())
            throw std::runtime_error("JSON: index " + std::to_string(i) + " out of an array of " +
                                     std::to_string(a.size()));
        return a[i];
    }
    std::size_t size() const { return is_array() ? as_array().size() : is_object() ? as_object().size() : 0; }

    // Compact text, for messages.
    std::string dump() const;

private:
    template <class V>
    const V& get(const char* what) const
    {
        if (const V* v = std::get_if<V>(&value_)) return *v;
        throw std::runtime_error("JSON: value " + dump() + " is not " + what);
    }

    std::variant<std::monostate, bool, double, std::string, std::shared_ptr<array>, std::shared_ptr<object>> value_;
};

namespace detail {

class json_parser {
public:
    explicit json_parser(std::string_view text) : text_(text) {}

    json document()
    {
        json v = value();
        skip_space();
        if (pos_ != text_.size()) fail("trailing characters");
        return v;
    }

private:
    [[noreturn]] void fail(const std::string& why) const
    {
        throw std::runtime_error("JSON: " + why + " at offset " + std::to_string(pos_));
    }
    void skip_space()
    {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\r' || text_[pos_] == '\t'))
            ++pos_;
    }
    bool consume(std::string_view word)
    {
        if (text_.substr(pos_, word.size()) != word) return false;
        pos_ += word.size();
        return true;
    }
    void expect(char c)
    {
        skip_space();
        if (pos_ >= text_.size() || text_[pos_] != c) fail(std::string("expected '") + c + "'");
        ++pos_;
    }

    json value()
    {
        skip_space();
        if (pos_ >= text_.size()) fail("unexpected end");
        const char c = text_[pos_];
        if (c == '{') return json(members());
        if (c == '[') return json(elements());
        if (c == '"') return json(string());
        if (consume("true")) return json(true);
        if (consume("false")) return json(false);
        if (consume("null")) return json();
        if (consume("NaN")) return json(std::numeric_limits<double>::quiet_NaN());
        return json(number());
    }

    json::object members()
    {
        json::object o;
        expect('{');
        skip_space();
        if (consume("}")) return o;
        for (;;) {
            skip_space();
            std::string key = string();
            expect(':');
            o.emplace_back(std::move(key), value());
            skip_space();
            if (consume("}")) return o;
            expect(',');
        }
    }

    json::array elements()
    {
        json::array a;
        expect('[');
        skip_space();
        if (consume("]")) return a;
        for (;;) {
            a.push_back(value());
            skip_space();
            if (consume("]")) return a;
            expect(',');
        }
    }

    std::string string()
    {
        if (pos_ >= text_.size() || text_[pos_] != '"') fail("expected a string");
        ++pos_;
        std::string s;
        while (pos_ < text_.size() && text_[pos_] != '"') {
            char c = text_[pos_++];
            if (c != '\\') {
                s += c;
                continue;
            }
            if (pos_ >= text_.size()) break;
            c = text_[pos_++];
            switch (c) {
            case 'n': s += '\n'; break;
            case 't': s += '\t'; break;
            case 'r': s += '\r'; break;
            case 'b': s += '\b'; break;
            case 'f': s += '\f'; break;
            case 'u': {
                if (pos_ + 4 > text_.size()) fail("short \\u escape");
                const unsigned code = static_cast<unsigned>(std::stoul(std::string(text_.substr(pos_, 4)), nullptr, 16));
                pos_ += 4;
                // Basic multilingual plane as UTF-8 (cases.json is ASCII in practice).
                if (code < 0x80) {
                    s += static_cast<char>(code);
                } else if (code < 0x800) {
                    s += static_cast<char>(0xC0 | (code >> 6));
                    s += static_cast<char>(0x80 | (code & 0x3F));
                } else {
                    s += static_cast<char>(0xE0 | (code >> 12));
                    s += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
                    s += static_cast<char>(0x80 | (code & 0x3F));
                }
                break;
            }
            default: s += c;  // \" \\ \/
            }
        }
        if (pos_ >= text_.size()) fail("unterminated string");
        ++pos_;
        return s;
    }

    double number()
    {
        const std::size_t start = pos_;
        while (pos_ < text_.size() && std::string_view("+-0123456789.eE").find(text_[pos_]) != std::string_view::npos)
            ++pos_;
        if (pos_ == start) fail("unexpected character");
        const std::string digits(text_.substr(start, pos_ - start));
        char* end = nullptr;
        const double d = std::strtod(digits.c_str(), &end);
        if (end != digits.c_str() + digits.size()) fail("malformed number '" + digits + "'");
        return d;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

}  // namespace detail

inline json json::parse(std::string_view text) { return detail::json_parser(text).document(); }

inline std::string json::dump() const
{
    std::ostringstream out;
    out.precision(17);
    if (is_null()) out << "null";
    else if (is_bool()) out << (std::get<bool>(value_) ? "true" : "false");
    else if (is_number()) out << std::get<double>(value_);
    else if (is_string()) out << '"' << std::get<std::string>(value_) << '"';
    else if (is_array()) {
        out << '[';
        const char* sep = "";
        for (const json& v : as_array()) out << sep << v.dump(), sep = ", ";
        out << ']';
    } else {
        out << '{';
        const char* sep = "";
        for (const auto& [k, v] : as_object()) out << sep << '"' << k << "\": " << v.dump(), sep = ", ";
        out << '}';
    }
    return out.str();
}

// One entry of cases.json, with the folder its files live in.
struct golden_case {
    std::string name;
    std::string op;
    json inputs;  // a list of files and numbers, or a map of argument name -> file
    json params;  // an object (possibly empty)
    std::filesystem::path dir;
    std::string expected;  // file name of the expected result
    double rtol = 0;
    double atol = 0;
    std::vector<std::string> added_keywords;
    std::string note;

    // --- inputs -------------------------------------------------------------------------
    // The input named `argument` (inputs given as a map), e.g. c.image("ccd").
    ccdx::image<double> image(std::string_view argument) const { return read(inputs[argument].as_string()); }
    // The i-th input (inputs given as a list).
    ccdx::image<double> image(std::size_t i) const { return read(inputs[i].as_string()); }
    // Every input of a list that names a file, in order (e.g. the frames to combine).
    std::vector<ccdx::image<double>> images() const
    {
        std::vector<ccdx::image<double>> out;
        for (const json& v : inputs.as_array())
            if (v.is_string()) out.push_back(read(v.as_string()));
        return out;
    }
    // Whether the i-th input of a list is a number (an operand such as `raw * 2.5`).
    bool input_is_number(std::size_t i) const { return inputs[i].is_number(); }
    double input_number(std::size_t i) const { return inputs[i].as_number(); }

    // Reads any file of the case's folder. Files written by astropy without BUNIT are
    // dimensionless there (astropy writes no BUNIT for a dimensionless unit), so this
    // reads them so; ccdx::read_fits itself asks for a unit in that case.
    ccdx::image<double> read(const std::string& file) const
    {
        const std::filesystem::path p = path(file);
        ccdx::read_options options;
        if (!ccdx::read_fits_header(p).contains("BUNIT")) options.unit = ccdx::unit::dimensionless();
        return ccdx::read_fits<double>(p, options);
    }
    std::filesystem::path path(const std::string& file) const { return dir / file; }
    ccdx::image<double> expected_image() const { return read(expected); }

    // --- params -------------------------------------------------------------------------
    bool has(std::string_view key) const
    {
        const json* v = params.find(key);
        return v && !v->is_null();
    }
    const json& param(std::string_view key) const
    {
        if (const json* v = params.find(key)) return *v;
        throw std::runtime_error("case '" + name + "': no parameter '" + std::string(key) + "'");
    }
    double number(std::string_view key) const { return param(key).as_number(); }
    double number(std::string_view key, double fallback) const { return has(key) ? number(key) : fallback; }
    long integer(std::string_view key) const { return static_cast<long>(number(key)); }
    long integer(std::string_view key, long fallback) const { return has(key) ? integer(key) : fallback; }
    const std::string& string(std::string_view key) const { return param(key).as_string(); }
    std::string string(std::string_view key, std::string fallback) const { return has(key) ? string(key) : fallback; }
    bool flag(std::string_view key) const { return param(key).as_bool(); }
    bool flag(std::string_view key, bool fallback) const { return has(key) ? flag(key) : fallback; }
    std::vector<double> numbers(std::string_view key) const
    {
        std::vector<double> out;
        for (const json& v : param(key).as_array()) out.push_back(v.as_number());
        return out;
    }
};

using op_function = std::function<ccdx::image<double>(const golden_case&)>;

// All registered ops, by name. An op registered twice is recorded in duplicates().
inline std::map<std::string, op_function>& ops()
{
    static std::map<std::string, op_function> table;
    return table;
}
inline std::vector<std::string>& duplicates()
{
    static std::vector<std::string> names;
    return names;
}

struct registrar {
    registrar(std::string op, op_function f)
    {
        if (!ops().emplace(op, std::move(f)).second) duplicates().push_back(std::move(op));
    }
};

// Reads cases.json of `dir` into cases.
inline std::vector<golden_case> load_cases(const std::filesystem::path& dir)
{
    const std::filesystem::path manifest = dir / "cases.json";
    std::ifstream in(manifest, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + manifest.string());
    std::ostringstream text;
    text << in.rdbuf();
    json doc;
    try {
        doc = json::parse(text.str());
    } catch (const std::exception& e) {
        throw std::runtime_error(manifest.string() + ": " + e.what());
    }
    std::vector<golden_case> cases;
    for (const json& j : doc["cases"].as_array()) {
        golden_case c;
        c.name = j["name"].as_string();
        c.op = j["op"].as_string();
        c.inputs = j["inputs"];
        c.params = j.find("params") ? j["params"] : json(json::object{});
        c.dir = dir;
        c.expected = j["expected"].as_string();
        c.rtol = j.find("rtol") ? j["rtol"].as_number() : 0.0;
        c.atol = j.find("atol") ? j["atol"].as_number() : 0.0;
        if (const json* k = j.find("added_keywords"))
            for (const json& v : k->as_array()) c.added_keywords.push_back(v.as_string());
        if (const json* n = j.find("note"); n && n->is_string()) c.note = n->as_string();
        cases.push_back(std::move(c));
    }
    return cases;
}

}  // namespace conformance
