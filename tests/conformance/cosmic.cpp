// Golden ops cosmicray_median, cosmicray_lacosmic and ccdmask.

#include <stdexcept>
#include <string>

#include <ccdx/detect/ccdmask.hpp>
#include <ccdx/detect/cosmicray.hpp>

#include "registry.hpp"

namespace {

ccdx::lacosmic_clean clean_type(const std::string& name)
{
    if (name == "median") return ccdx::lacosmic_clean::median;
    if (name == "medmask") return ccdx::lacosmic_clean::medmask;
    if (name == "meanmask") return ccdx::lacosmic_clean::meanmask;
    if (name == "idw") return ccdx::lacosmic_clean::idw;
    throw std::runtime_error("unknown cleantype '" + name + "'");
}

ccdx::fine_structure fine_structure_mode(const std::string& name)
{
    if (name == "median") return ccdx::fine_structure::median;
    if (name == "convolve") return ccdx::fine_structure::convolve;
    throw std::runtime_error("unknown fsmode '" + name + "'");
}

ccdx::psf_model psf(const std::string& name)
{
    if (name == "gauss") return ccdx::psf_model::gauss;
    if (name == "gaussx") return ccdx::psf_model::gaussx;
    if (name == "gaussy") return ccdx::psf_model::gaussy;
    if (name == "moffat") return ccdx::psf_model::moffat;
    throw std::runtime_error("unknown psfmodel '" + name + "'");
}

const conformance::registrar r_median{"cosmicray_median", [](const conformance::golden_case& c) {
    ccdx::cosmicray_median_options o;
    o.thresh = c.number("thresh", o.thresh);
    o.mbox = static_cast<std::size_t>(c.integer("mbox", static_cast<long>(o.mbox)));
    o.rbox = static_cast<std::size_t>(c.integer("rbox", 0));
    o.gbox = static_cast<std::size_t>(c.integer("gbox", 0));
    if (c.has("error_image")) o.error = c.number("error_image");
    return ccdx::cosmicray_median(c.image("ccd"), o);
}};

const conformance::registrar r_lacosmic{"cosmicray_lacosmic", [](const conformance::golden_case& c) {
    ccdx::lacosmic_options o;
    o.sigclip = c.number("sigclip", o.sigclip);
    o.sigfrac = c.number("sigfrac", o.sigfrac);
    o.objlim = c.number("objlim", o.objlim);
    o.gain = ccdx::quantity(c.number("gain", 1.0), ccdx::unit("electron / adu"));
    o.readnoise = ccdx::quantity(c.number("readnoise", 6.5), ccdx::unit("electron"));
    o.satlevel = c.number("satlevel", o.satlevel);
    o.niter = static_cast<int>(c.integer("niter", o.niter));
    o.sepmed = c.flag("sepmed", o.sepmed);
    o.cleantype = clean_type(c.string("cleantype", "meanmask"));
    o.fsmode = fine_structure_mode(c.string("fsmode", "median"));
    o.psfmodel = psf(c.string("psfmodel", "gauss"));
    o.psffwhm = c.number("psffwhm", o.psffwhm);
    o.psfsize = static_cast<int>(c.integer("psfsize", o.psfsize));
    o.psfbeta = c.number("psfbeta", o.psfbeta);
    o.gain_apply = c.flag("gain_apply", o.gain_apply);
    return ccdx::cosmicray_lacosmic(c.image("ccd"), o);
}};

const conformance::registrar r_ccdmask{"ccdmask", [](const conformance::golden_case& c) {
    ccdx::ccdmask_options o;
    o.findbadcolumns = c.flag("findbadcolumns", o.findbadcolumns);
    o.byblocks = c.flag("byblocks", o.byblocks);
    o.ncmed = static_cast<std::size_t>(c.integer("ncmed", static_cast<long>(o.ncmed)));
    o.nlmed = static_cast<std::size_t>(c.integer("nlmed", static_cast<long>(o.nlmed)));
    o.ncsig = static_cast<std::size_t>(c.integer("ncsig", static_cast<long>(o.ncsig)));
    o.nlsig = static_cast<std::size_t>(c.integer("nlsig", static_cast<long>(o.nlsig)));
    o.lsigma = c.number("lsigma", o.lsigma);
    o.hsigma = c.number("hsigma", o.hsigma);
    o.ngood = static_cast<std::size_t>(c.integer("ngood", static_cast<long>(o.ngood)));
    const ccdx::image<double> ratio = c.image("ratio");
    // The reference returns the boolean mask itself; compared as data 0/1.
    const auto bad = ccdx::ccdmask(ratio, o);
    ccdx::image<double> out(ratio.rows(), ratio.cols());
    for (std::size_t i = 0; i < bad.size(); ++i) out.data().data()[i] = bad.data()[i] ? 1.0 : 0.0;
    return out;
}};

}  // namespace
