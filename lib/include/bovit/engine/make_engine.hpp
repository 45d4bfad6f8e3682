#pragma once

#include "bovit/engine/dense.hpp"
#include "bovit/engine/span.hpp"

#include <fmt/format.h>

namespace bovit {

template <real_scalar Real>
std::unique_ptr<engine<Real>> make_engine(const std::string& kind, dataset<Real> data, parameters<Real> init,
                                          const model_config& model) {
  if (kind == "dense") return std::make_unique<dense_engine<Real>>(std::move(data), std::move(init), model);
  if (kind == "span") return std::make_unique<span_engine<Real>>(std::move(data), std::move(init), model);
  throw config_error(fmt::format("run.engine: got \"{}\"; accepts one of dense, span", kind));
}

}  // namespace bovit
