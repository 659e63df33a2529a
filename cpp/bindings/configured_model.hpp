// A model as Python sees it: the core's model (constants and initial state) with its free set,
// the quantities a row of theta holds (simulate/free_set.hpp). Every binding that takes a model
// takes this; the default free set runs the model's own code paths.
#pragma once

#include "fhn_inverse/simulate/free_set.hpp"

template <class Model>
struct Configured {
  Model model;
  fhn_inverse::simulate::FreeSet free = fhn_inverse::simulate::default_free_set<Model>();
};
