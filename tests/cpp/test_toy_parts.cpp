// A layer and a loss each defined in one file of their own (toy_layer.hpp, toy_loss.hpp) and
// registered once: the network builds the layer by its kind, the trainer trains with the loss by
// its name, end to end; their derivatives pass the same gradient check as the built-in ones.
#include <gtest/gtest.h>

#include "fhn_inverse/nn/network.hpp"
#include "fhn_inverse/nn/optimizers.hpp"
#include "fhn_inverse/train/trainer.hpp"
#include "nn_test_util.hpp"
#include "toy_layer.hpp"
#include "toy_loss.hpp"

using namespace fhn_inverse;
using namespace fhn_inverse::testing;

namespace {

nn::LayerSpec kind(const std::string& k) { return nn::LayerSpec{k}; }
nn::LayerSpec dense(long units) {
  nn::LayerSpec s{"dense"};
  s.units = units;
  return s;
}

}  // namespace

TEST(ToyParts, TheLayerHasItsGradients) {
  ScaleLayer layer(nn::Shape::vector(6));
  check_layer_gradients(layer, random_vector(6 * 4, 3), 4);
}

TEST(ToyParts, TheLossHasItsGradientAndChunksAddUp) {
  const nn::LossKind mae = toy_mae();
  EXPECT_EQ(nn::parse_loss("toy_mae"), mae);
  EXPECT_EQ(nn::loss_name(mae), "toy_mae");
  EXPECT_EQ(nn::loss_output_size(mae, 3), 3);
  const float y[4] = {1, 2, 3, 4}, t[4] = {0, 4, 3, 5};
  float dy[4];
  EXPECT_DOUBLE_EQ(nn::evaluate_loss(mae, y, t, dy, 2, 2, 2.0), 1.0);  // (1+2+0+1)/4
  EXPECT_FLOAT_EQ(dy[1], -0.25f);
  std::vector<float> yy = random_vector(12, 1), tt = random_vector(12, 2), g(12);
  nn::evaluate_loss(mae, yy.data(), tt.data(), g.data(), 4, 3, 4.0);
  auto f = [&] { return nn::evaluate_loss(mae, yy.data(), tt.data(), nullptr, 4, 3, 4.0); };
  check_gradient(f, yy.data(), 12, g.data(), "toy_mae dy");
  EXPECT_THROW(nn::register_loss(
                   {"mse", [](long d) { return d; }, [](long o) { return o; },
                    [](const float*, const float*, float*, long, long, double) { return 0.0; }}),
               std::invalid_argument);
  EXPECT_THROW(nn::parse_loss("hinge"), std::invalid_argument);
}

TEST(ToyParts, ANetworkWithBothTrainsEndToEnd) {
  const long n = 256, f = 4;
  std::vector<float> x = random_vector(n * f, 5), y(n);
  for (long i = 0; i < n; ++i) y[i] = 3.0f * x[i * f] - 2.0f * x[i * f + 2];  // a linear target
  const std::vector<nn::LayerSpec> layers = {kind(scale_layer_kind()), dense(8), kind("tanh"),
                                             dense(1)};
  nn::Network net(nn::Shape::vector(f), layers, 1);
  ASSERT_EQ(net.summary().front().name, "Scale");
  train::TrainConfig cfg;
  cfg.epochs = 40;
  cfg.batch_size = 32;
  cfg.loss = toy_mae();
  cfg.schedule.lr = 1e-2;
  cfg.n_threads = 1;
  nn::Adam adam(net.n_params(), cfg.optimizer);
  const double before = net.loss(x.data(), y.data(), n, cfg.loss, 1);
  const auto h = train::fit(net, adam, x.data(), y.data(), n, nullptr, nullptr, 0, cfg);
  EXPECT_LT(h.loss.back(), 0.3 * before);
  EXPECT_NEAR(net.loss(x.data(), y.data(), n, cfg.loss, 1), h.loss.back(), 0.1 * before);
  // the layer learnt: its weights moved off their initial ones
  EXPECT_NE(net.params()[0], 1.0f);
  EXPECT_THROW(
      nn::register_layer("dense", [](const nn::LayerSpec&,
                                     nn::Shape in) { return std::make_unique<ScaleLayer>(in); }),
      std::invalid_argument);
}

TEST(ToyParts, LayerKindsListTheBuiltInOnesThenTheRegisteredWithTheirFields) {
  const std::string scale = scale_layer_kind();
  const auto kinds = nn::layer_kinds();
  ASSERT_GE(kinds.size(), 13u);
  EXPECT_EQ(kinds[0].kind, "dense");
  EXPECT_EQ(kinds[0].fields, std::vector<std::string>{"units"});
  EXPECT_EQ(kinds[1].fields, (std::vector<std::string>{"filters", "kernel", "stride", "padding"}));
  const auto found = std::find_if(kinds.begin(), kinds.end(),
                                  [&](const nn::LayerKind& k) { return k.kind == scale; });
  ASSERT_NE(found, kinds.end());
  EXPECT_TRUE(found->fields.empty());
  // every listed kind builds (with its fields set), and the list names each kind once
  for (const auto& k : kinds) {
    EXPECT_EQ(std::count_if(kinds.begin(), kinds.end(),
                            [&](const nn::LayerKind& o) { return o.kind == k.kind; }),
              1)
        << k.kind;
    nn::LayerSpec spec{k.kind, 4, 2, 3, 1, "valid", 2, 0.1};
    const bool sequence =
        k.kind == "conv1d" || k.kind == "avgpool1d" || k.kind == "maxpool1d" || k.kind == "flatten";
    EXPECT_NO_THROW(
        nn::make_layer(spec, sequence ? nn::Shape::sequence(2, 8) : nn::Shape::vector(8)))
        << k.kind;
  }
  const auto factory = [](const nn::LayerSpec&, nn::Shape in) {
    return std::make_unique<ScaleLayer>(in);
  };
  EXPECT_THROW(nn::register_layer("scale2", factory, {"width"}), std::invalid_argument);
  EXPECT_THROW(nn::register_layer("scale2", factory, {"units", "units"}), std::invalid_argument);
}
