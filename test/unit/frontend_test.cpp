// The DSL refuses ill-shaped models with kiln::Error naming the op, the shapes and the line.
#include "kiln/Tensor.h"
#include "kiln/nn.h"

#include "error_of.h"

#include <gtest/gtest.h>

namespace {

TEST(Frontend, LinearWithWrongFeatureCountNamesLayerAndLine) {
  kiln::Trace trace("bad");
  kiln::Tensor x = trace.input("x", {100, 3});
  kiln::nn::Linear layer(2, 10);
  std::string message = errorOf([&] { layer(x); });
  EXPECT_NE(message.find("frontend_test.cpp:"), std::string::npos) << message;
  EXPECT_NE(message.find("Linear(2, 10) expects input [batch, 2]"), std::string::npos) << message;
  EXPECT_NE(message.find("3 features"), std::string::npos) << message;
}

// The op's own shape rule (its verifier) speaks, at the DSL line.
TEST(Frontend, MatmulNamesBothShapes) {
  kiln::Trace trace("bad");
  kiln::Tensor a = trace.input("a", {4, 5}), b = trace.input("b", {6, 7});
  std::string message = errorOf([&] { a.matmul(b); });
  EXPECT_NE(message.find("frontend_test.cpp:"), std::string::npos) << message;
  EXPECT_NE(message.find("'kiln.matmul' op inner dimensions differ: lhs 4x5 has 5 columns, rhs 6x7 has 6 rows"),
            std::string::npos)
      << message;
}

TEST(Frontend, ConvolutionAndPoolingShapesFromTheVerifier) {
  kiln::Trace trace("bad");
  kiln::Tensor x = trace.input("x", {2, 3, 8, 8}), f = trace.input("f", {4, 5, 3, 3});
  std::string message = errorOf([&] { kiln::conv2d(x, f); });
  EXPECT_NE(message.find("frontend_test.cpp:"), std::string::npos) << message;
  EXPECT_NE(message.find("'kiln.conv2d' op input 2x3x8x8 has 3 channels, filter 4x5x3x3 expects 5"), std::string::npos)
      << message;
  message = errorOf([&] { kiln::max_pool2d(x, {9, 9}, {1, 1}); });
  EXPECT_NE(message.find("'kiln.max_pool2d' op the kernel 9x9 does not fit the input 2x3x8x8"), std::string::npos)
      << message;
  message = errorOf([&] { kiln::avg_pool2d(x, {2, 2}, {0, 1}); });
  EXPECT_NE(message.find("kernel and stride must be >= 1"), std::string::npos) << message;
}

TEST(Frontend, BroadcastMismatch) {
  kiln::Trace trace("bad");
  kiln::Tensor a = trace.input("a", {4, 5}), b = trace.input("b", {3});
  EXPECT_NE(errorOf([&] { a + b; }).find("shapes [4, 5] and [3] cannot be broadcast together"), std::string::npos);
}

TEST(Frontend, LossMustBeScalar) {
  kiln::Trace trace("bad");
  kiln::Tensor a = trace.input("a", {4});
  EXPECT_NE(errorOf([&] { trace.finish(a); }).find("the loss must be a scalar"), std::string::npos);
}

TEST(Frontend, TracesTheTutorialNet) {
  kiln::Trace trace("ok");
  kiln::Tensor x = trace.input("x", {8, 1}), y = trace.input("y", {8, 1});
  kiln::nn::Sequential net(kiln::nn::Linear(1, 10), kiln::nn::ReLU(), kiln::nn::Linear(10, 1));
  kiln::Tensor loss = kiln::nn::MSELoss()(net(x), y);
  std::string text = trace.finish(loss);
  EXPECT_NE(text.find("kiln.matmul"), std::string::npos);
  EXPECT_NE(text.find("kiln.param = \"0.weight\""), std::string::npos);
  EXPECT_NE(text.find("kiln.param = \"2.bias\""), std::string::npos);
  EXPECT_NE(text.find("kiln.fan_in = 10"), std::string::npos);
}

TEST(Frontend, NegativeDimensionsAreRefused) {
  kiln::Trace trace("bad");
  EXPECT_NE(errorOf([&] { trace.input("x", {-1, 784}); }).find("-1 for 'infer' is not supported"), std::string::npos);
  kiln::Tensor x = trace.input("x", {6});
  EXPECT_NE(errorOf([&] { x.reshape({-2, -3}); }).find("is not allowed"), std::string::npos);
}

// A tensor of one entry used in the next, or of another trace, is a user error.
TEST(Frontend, TensorsStayInTheirEntryAndTrace) {
  kiln::Trace trace("bad");
  kiln::Tensor x = trace.input("x", {4});
  kiln::Tensor loss = (x * x).mean();
  trace.begin("eval", kiln::EntryKind::eval, loss);
  kiln::Tensor fresh = trace.input("x", {4});
  EXPECT_NE(errorOf([&] { fresh + x; }).find("a tensor traced in another entry"), std::string::npos);
  kiln::Trace other("other");
  kiln::Tensor y = other.input("y", {4, 4});
  kiln::Tensor z = trace.input("z", {4, 4});
  EXPECT_NE(errorOf([&] { z.matmul(y); }).find("operands come from different traces"), std::string::npos);
}

// torch.nn.Sequential's printed form.
TEST(Frontend, SequentialPrintsLikePyTorch) {
  kiln::nn::Sequential net(kiln::nn::Linear(2, 10), kiln::nn::ReLU(), kiln::nn::Linear(10, 2));
  EXPECT_EQ(net.repr(), "Sequential(\n"
                        "  (0): Linear(in_features=2, out_features=10, bias=True)\n"
                        "  (1): ReLU()\n"
                        "  (2): Linear(in_features=10, out_features=2, bias=True)\n"
                        ")");
}

// Entries share parameters by name: the tail entry gets the same names and shapes.
// A Module whose members are registered children, copied into a Sequential (by value, as
// Sequential takes its layers) and nested again: the copies find their own members.
struct Block : kiln::nn::Module {
  kiln::nn::Linear fc1{4, 8}, fc2{8, 4};
  Block() {
    register_module("fc1", fc1);
    register_module("fc2", fc2);
  }
  kiln::Tensor forward(const kiln::Tensor &x) const override { return fc2(kiln::nn::relu(fc1(x))); }
};

// A user's forward passes no location: the layer a nested custom module calls reports the
// line of that call inside forward, and the library's own ops (Linear's bias add) are
// recorded where the layer was called.
const int kFcCallLine = __LINE__ + 4;
struct Wide : kiln::nn::Module {
  kiln::nn::Linear fc{2, 3};
  Wide() { register_module("fc", fc); }
  kiln::Tensor forward(const kiln::Tensor &x) const override { return kiln::nn::relu(fc(x)); }
};

TEST(Frontend, LayerCallsRecordTheirLineWithoutWhere) {
  kiln::Trace trace("lines");
  kiln::nn::Sequential net{Wide(), kiln::nn::Tanh()};
  std::string message = errorOf([&] { net(trace.input("x", {4, 5})); });
  EXPECT_NE(message.find("frontend_test.cpp:" + std::to_string(kFcCallLine) + ": Linear(2, 3)"), std::string::npos)
      << message;
  kiln::Trace good("lines");
  kiln::Tensor y = net(good.input("x", {4, 2}));
  std::string text = good.finish(y.sum({0, 1}));
  EXPECT_NE(text.find("frontend_test.cpp\":" + std::to_string(kFcCallLine)), std::string::npos) << text;
  EXPECT_EQ(text.find("<operator>"), std::string::npos) << text;
}

TEST(Frontend, SequentialOfCustomModulesWithChildren) {
  kiln::Trace trace("nested");
  kiln::nn::Sequential inner{Block(), kiln::nn::Tanh()};
  kiln::nn::Sequential net{Block(), std::move(inner), kiln::nn::Linear(4, 2)};
  std::vector<std::string> names;
  for (const kiln::nn::Param &p : net.parameters())
    names.push_back(p.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"0.fc1.weight", "0.fc1.bias", "0.fc2.weight", "0.fc2.bias", "1.0.fc1.weight",
                                      "1.0.fc1.bias", "1.0.fc2.weight", "1.0.fc2.bias", "2.weight", "2.bias"}));
  kiln::Tensor y = net(trace.input("x", {3, 4}));
  EXPECT_EQ(y.shape(), (kiln::Shape{3, 2}));
  // A module that writes no repr() prints as PyTorch prints it: its class and its children.
  EXPECT_EQ(net.repr(), "Sequential(\n"
                        "  (0): Block(\n"
                        "    (fc1): Linear(in_features=4, out_features=8, bias=True)\n"
                        "    (fc2): Linear(in_features=8, out_features=4, bias=True)\n"
                        "  )\n"
                        "  (1): Sequential(\n"
                        "    (0): Block(\n"
                        "      (fc1): Linear(in_features=4, out_features=8, bias=True)\n"
                        "      (fc2): Linear(in_features=8, out_features=4, bias=True)\n"
                        "    )\n"
                        "    (1): Tanh()\n"
                        "  )\n"
                        "  (2): Linear(in_features=4, out_features=2, bias=True)\n"
                        ")");
}

TEST(Frontend, BiasFreeConvolutionAndActivationModules) {
  kiln::nn::Conv2d conv(3, 8, 3, 1, 1, 1, /*bias=*/false);
  ASSERT_EQ(conv.parameters().size(), 1u);
  EXPECT_EQ(conv.parameters()[0].name, "weight");
  EXPECT_EQ(conv.repr(), "Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)");
  EXPECT_EQ(kiln::nn::LeakyReLU(0.2f).repr(), "LeakyReLU(negative_slope=0.2)");
  EXPECT_EQ(kiln::nn::Softplus().repr(), "Softplus(beta=1, threshold=20)");
}

TEST(Frontend, EntriesShareParameters) {
  kiln::Trace trace("two");
  kiln::nn::Linear layer(1, 3);
  kiln::Tensor l1 = kiln::nn::MSELoss()(layer(trace.input("x", {4, 1})), trace.input("y", {4, 3}));
  trace.begin("forward_tail", kiln::EntryKind::train, l1);
  kiln::Tensor l2 = kiln::nn::MSELoss()(layer(trace.input("x", {2, 1})), trace.input("y", {2, 3}));
  std::string text = trace.finish(l2);
  EXPECT_NE(text.find("func.func @forward_tail"), std::string::npos);
  size_t first = text.find("kiln.param = \"weight\"");
  ASSERT_NE(first, std::string::npos);
  EXPECT_NE(text.find("kiln.param = \"weight\"", first + 1), std::string::npos);
}

} // namespace

namespace {

// BatchNorm prints as PyTorch's, names its parameters and buffers as its state_dict does, and
// refuses inputs of the wrong rank or channel count at the line of the call.
TEST(Frontend, BatchNormNamesShapesAndErrors) {
  kiln::nn::Sequential net(kiln::nn::Linear(3, 4), kiln::nn::BatchNorm1d(4));
  std::vector<std::string> names;
  for (const kiln::nn::Param &p : net.parameters())
    names.push_back(p.name);
  for (const kiln::nn::Buffer &b : net.buffers())
    names.push_back(b.name);
  EXPECT_EQ(names, (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                                             "1.running_var", "1.num_batches_tracked"}));
  EXPECT_EQ(kiln::nn::BatchNorm2d(16).repr(),
            "BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)");
  EXPECT_EQ(kiln::nn::BatchNorm1d(8, 1e-3, std::nullopt, false, false).repr(),
            "BatchNorm1d(8, eps=0.001, momentum=None, affine=False, track_running_stats=False)");
  EXPECT_TRUE(kiln::nn::BatchNorm1d(8, 1e-5, 0.1, true, false).buffers().empty());

  kiln::Trace trace("bad");
  kiln::nn::BatchNorm2d bn(3);
  std::string message = errorOf([&] { bn(trace.input("x", {2, 3, 4})); });
  EXPECT_NE(message.find("frontend_test.cpp:"), std::string::npos) << message;
  EXPECT_NE(message.find("BatchNorm2d(3) expects input [N, C, H, W], got a tensor of rank 3"), std::string::npos)
      << message;
  message = errorOf([&] { bn(trace.input("z", {2, 5, 4, 4})); });
  EXPECT_NE(message.find("BatchNorm2d(3) expects 3 channels (dimension 1), got 5"), std::string::npos) << message;
  message = errorOf([&] { kiln::nn::BatchNorm1d(4)(trace.input("one", {1, 4})); });
  EXPECT_NE(message.find("expected more than 1 value per channel when training"), std::string::npos) << message;
  EXPECT_NE(errorOf([] { kiln::nn::BatchNorm1d(4, 1e-5, 1.5); }).find("momentum must lie in [0, 1]"),
            std::string::npos);
}

// Over [N, C] a train step needs 2 rows: the trace says so for kiln compile to check the steps
// it re-specialises (the short last batch, a rank's share); over [N, C, L > 1] one row will do.
TEST(Frontend, BatchNormRecordsTheRowsItNeeds) {
  for (int64_t length : {1, 3}) {
    kiln::Trace trace("rows");
    kiln::nn::BatchNorm1d bn(4);
    kiln::Tensor x = length == 1 ? trace.input("x", {8, 4}) : trace.input("x", {8, 4, length});
    std::string text = trace.finish(length == 1 ? bn(x).sum({0, 1}) : bn(x).sum({0, 1, 2}));
    EXPECT_EQ(text.find("kiln.min_rows = {rows = 2 : i64"),
              length == 1 ? text.find("kiln.min_rows") : std::string::npos)
        << text.substr(0, 400);
    if (length == 1)
      EXPECT_NE(text.find("BatchNorm1d(4) at frontend_test.cpp:"), std::string::npos) << text.substr(0, 400);
  }
}

// Buffers change only in train entries, once per entry, after being read there.
TEST(Frontend, BufferUpdatesAreChecked) {
  kiln::Trace trace("buffers");
  kiln::Tensor count = trace.buffer("count", {}, 0.0, true);
  trace.update("count", count + 1.0f);
  EXPECT_NE(errorOf([&] { trace.update("count", count + 2.0f); }).find("updated twice in entry 'forward'"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { trace.update("other", count); }).find("without being read there first"), std::string::npos);
  kiln::Tensor x = trace.input("x", {2, 3});
  EXPECT_NE(errorOf([&] { trace.update("count", x); }).find("of shape scalar is updated with a tensor of shape 2x3"),
            std::string::npos);
  trace.begin("eval", kiln::EntryKind::eval, count);
  kiln::Tensor evalCount = trace.buffer("count", {}, 0.0, true);
  EXPECT_NE(errorOf([&] { trace.update("count", evalCount); }).find("an eval entry"), std::string::npos);
  std::string text = trace.finish(evalCount);
  EXPECT_NE(text.find("kiln.update_of = \"count\""), std::string::npos) << text;
  EXPECT_NE(text.find("kiln.buffer = \"count\""), std::string::npos) << text;
}

} // namespace
