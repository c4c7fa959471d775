// The CPU engine of molearn's direct oneDNN calls (Debian's libdnnl-dev,
// the same libdnnl.so.2 libtorch runs on). One per process: an engine is
// cheap to share and primitives are tied to it.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

namespace molearn::onednn {

inline dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

}  // namespace molearn::onednn
