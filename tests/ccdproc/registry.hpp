#pragma once
// Every test function of the ccdproc modules ported here, each accounted for once: ported (a
// TEST_CASE of the same name runs and passes), differs (a difference README.md lists under
// "Where ccdx differs from ccdproc on purpose"), not_applicable (Python-only mechanics), or
// failing (a TEST_CASE written as ccdproc expects, skipped until ccdx does it).
//
// Modules not ported yet: test_wrapped_external_funcs.py, test_ccdproc.py, test_combiner.py,
// test_cosmicray.py, test_image_collection.py, test_combine_open_files.py, test_memory_use.py.

#include <vector>

namespace ccdproc_registry {

enum class status { ported, differs, not_applicable, failing };

struct entry {
    const char* module;
    const char* function;
    status state;
    const char* reason;  // empty for ported
};

inline const std::vector<entry>& entries()
{
    static const std::vector<entry> all = {
        // test_gain.py
        {"test_gain.py", "test_linear_gain_correct", status::ported, ""},
        {"test_gain.py", "test_linear_gain_unit_keyword", status::ported, ""},
        // test_keyword.py
        {"test_keyword.py", "test_keyword_init", status::ported, ""},
        {"test_keyword.py", "test_keyword_properties_read_only", status::not_applicable,
         "Python attribute protection; from_header is a plain value whose constness C++ enforces"},
        {"test_keyword.py", "test_value_setting", status::not_applicable,
         "a Keyword holding a value: ccdx takes a known value as a quantity, from_header holds a keyword and unit"},
        {"test_keyword.py", "test_keyword_value_from_header", status::ported, ""},
        // test_bitfield.py
        {"test_bitfield.py", "test_bitfield_not_integer", status::not_applicable,
         "a non-integer bit field does not compile (static_assert) where Python raises TypeError"},
        {"test_bitfield.py", "test_bitfield_negative_flags", status::ported, ""},
        {"test_bitfield.py", "test_bitfield_non_poweroftwo_flags", status::ported, ""},
        {"test_bitfield.py", "test_bitfield_flipbits_when_no_bits", status::not_applicable,
         "None with flip_bits: ccdx's text overload (where None lives) takes no flip argument, so it cannot be written"},
        {"test_bitfield.py", "test_bitfield_flipbits_when_stringbits", status::not_applicable,
         "text flags with flip_bits: the text overload takes no flip argument ('~' flips), so it cannot be written"},
        {"test_bitfield.py", "test_bitfield_string_flag_flip_not_start_of_string", status::ported, ""},
        {"test_bitfield.py", "test_bitfield_string_flag_unbalanced_parens", status::ported, ""},
        {"test_bitfield.py", "test_bitfield_string_flag_wrong_positioned_parens", status::ported, ""},
        {"test_bitfield.py", "test_bitfield_string_flag_empty", status::ported, ""},
        {"test_bitfield.py", "test_bitfield_flag_non_integer", status::not_applicable,
         "flags are std::int64_t: a flag of 1.3 does not compile where Python raises TypeError"},
        {"test_bitfield.py", "test_bitfield_duplicate_flag_throws_warning", status::failing,
         "ccdx ignores a repeated flag silently; ccdproc warns 'Duplicate bit flags will be ignored'"},
        {"test_bitfield.py", "test_bitfield_none_identical_to_strNone", status::ported, ""},
        // test_rebin.py (rebin is deprecated there; ccdx has its replacements, block_replicate/average)
        {"test_rebin.py", "test_rebin_ndarray", status::not_applicable,
         "a number in place of an array: a Python type check; the C++ call does not compile"},
        {"test_rebin.py", "test_rebin_dimensions", status::not_applicable,
         "a 1-D target shape for a 2-D array: ccdx's block_size always has two axes"},
        {"test_rebin.py", "test_rebin_ccddata_dimensions", status::not_applicable,
         "a 1-D target shape for a 2-D image: ccdx's block_size always has two axes"},
        {"test_rebin.py", "test_rebin_larger", status::ported, ""},
        {"test_rebin.py", "test_rebin_smaller", status::ported, ""},
        {"test_rebin.py", "test_rebin_ccddata", status::ported, ""},
        {"test_rebin.py", "test_rebin_does_not_change_input", status::ported, ""},
        // utils/tests/test_slices.py (README: "Sections are strict: a one-axis string, a step ... is a section_error")
        {"test_slices.py", "test_slice_from_string_needs_enclosing_brackets", status::ported, ""},
        {"test_slices.py", "test_slice_from_string_1d", status::differs,
         "README: sections are strict, a one-axis string or a step is a section_error"},
        {"test_slices.py", "test_slice_from_string_spaces", status::differs,
         "README: sections are strict, a one-axis string is a section_error (its strings are one-axis)"},
        {"test_slices.py", "test_slice_from_string_2d", status::not_applicable,
         "numpy-convention strings (0-based, negative indices) index Python arrays; ccdx sections are FITS-only"},
        {"test_slices.py", "test_slice_from_string_fits_style", status::differs,
         "README: sections are strict, a step is a section_error (the step-free half matches ccdproc)"},
        {"test_slices.py", "test_slice_from_string_fits_inverted", status::differs,
         "README: sections are strict, a step or a third axis is a section_error (step-free axes match ccdproc)"},
        {"test_slices.py", "test_slice_from_string_empty", status::not_applicable,
         "'' gives an empty tuple of Python slices; in ccdx no section is expressed by passing none"},
        {"test_slices.py", "test_slice_from_string_bad_fits_slice", status::ported, ""},
        {"test_slices.py", "test_slice_from_string_fits_wildcard", status::differs,
         "README: sections are strict, a step is a section_error (the step-free half matches ccdproc)"},
        // test_ccdproc_logging.py
        {"test_ccdproc_logging.py", "test_log_string", status::ported, ""},
        {"test_ccdproc_logging.py", "test_log_keyword", status::ported, ""},
        {"test_ccdproc_logging.py", "test_log_dict", status::ported, ""},
        {"test_ccdproc_logging.py", "test_log_bad_type_fails", status::not_applicable,
         "add_keyword=15: a Python type check; add_keyword has no overload taking a number"},
        {"test_ccdproc_logging.py", "test_log_set_to_None_does_not_change_header", status::ported, ""},
        {"test_ccdproc_logging.py", "test_implicit_logging", status::ported, ""},
        {"test_ccdproc_logging.py", "test_loggin_without_keyword_args", status::ported, ""},
        {"test_ccdproc_logging.py", "test_logging_with_really_long_parameter_value", status::differs,
         "README: sections are strict, an index outside the image is a section_error rather than clipped"},
        // test_ccdmask.py
        {"test_ccdmask.py", "test_ccdmask_no_ccddata", status::not_applicable,
         "a nested Python list in place of an image: ccdmask takes an image<T>, the call does not compile"},
        {"test_ccdmask.py", "test_ccdmask_not_2d", status::not_applicable,
         "1-D, 0-D and 3-D CCDData: a ccdx image is two-dimensional by type"},
        {"test_ccdmask.py", "test_ccdmask_pixels", status::ported, ""},
    };
    return all;
}

}  // namespace ccdproc_registry
