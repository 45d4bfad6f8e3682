// From a configuration to a ready engine: data and initial weights from the seed's streams,
// converted to the run's scalar type. `with_precision` turns the run.precision string into the
// scalar type parameter of a generic lambda.
#pragma once

#include "bovit/config.hpp"
#include "bovit/data/dataset.hpp"
#include "bovit/engine/make_engine.hpp"
#include "bovit/model/parameters.hpp"

#include <memory>

namespace bovit {

template <real_scalar Real>
std::unique_ptr<engine<Real>> build_engine(const config& cfg, const dataset<double>& data) {
  auto init = init_parameters(cfg, seed_streams(cfg.run.seed).init);
  if constexpr (std::same_as<Real, double>) return make_engine<Real>(cfg.run.engine, data, std::move(init), cfg.model);
  else return make_engine<Real>(cfg.run.engine, convert<Real>(data), convert<Real>(init), cfg.model);
}

// The data are moved into the engine (no copy for double).
template <real_scalar Real>
std::unique_ptr<engine<Real>> build_engine(const config& cfg, dataset<double>&& data) {
  if constexpr (std::same_as<Real, double>) {
    return make_engine<Real>(cfg.run.engine, std::move(data), init_parameters(cfg, seed_streams(cfg.run.seed).init),
                             cfg.model);
  } else {
    return build_engine<Real>(cfg, static_cast<const dataset<double>&>(data));
  }
}

template <real_scalar Real>
std::unique_ptr<engine<Real>> build_engine(const config& cfg) {
  cfg.validate();
  return build_engine<Real>(cfg, make_dataset(cfg.data, cfg.run.seed));
}

template <class F>
decltype(auto) with_precision(const std::string& precision, F&& f) {
  if (precision == "double") return f.template operator()<double>();
  if (precision == "long-double") return f.template operator()<long double>();
  if (precision == "mp50") return f.template operator()<mp50>();
  throw config_error("run.precision: got \"" + precision + "\"; accepts one of double, long-double, mp50");
}

std::string version();

}  // namespace bovit
