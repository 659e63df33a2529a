// VectorEvaluator: evaluation of vector maps through two buffers (executors.hpp).
#include <cstring>

#include "executors.hpp"

namespace fhn_inverse::nn {

const float* VectorEvaluator::forward(const float* x, long nc, float* buf0, float* buf1) const {
  const Network& net = net_;
  const float* in = x;
  Context ctx;
  for (const Network::Step& s : net.steps_) {
    if (s.about.eval_identity) continue;
    ctx.layer = s.spec;
    // element-wise layers overwrite their input once it is one of the buffers; others alternate
    float* mine = in == buf0 ? buf0 : in == buf1 ? buf1 : nullptr;
    float* out = mine && s.about.elementwise ? mine : mine == buf0 ? buf1 : buf0;
    if (s.about.packed)
      s.about.packed->forward_packed(net.params_of(s), net.packed_for(s), in, out, nc);
    else
      s.layer->forward(net.params_of(s), in, out, nc, nullptr, ctx);
    in = out;
  }
  if (in == x) {  // no layer computed anything (a map of identities)
    std::memcpy(buf0, x, sizeof(float) * nc * net.output_shape().size());
    in = buf0;
  }
  return in;
}

}  // namespace fhn_inverse::nn
