// The DSL refuses ill-shaped models with kiln::Error naming the op, the shapes and the line.
#include "kiln/Tensor.h"
#include "kiln/nn.h"

#include <gtest/gtest.h>

namespace {

std::string errorOf(const std::function<void()> &f) {
  try {
    f();
  } catch (const kiln::Error &e) {
    return e.what();
  }
  return "";
}

TEST(Frontend, LinearWithWrongFeatureCountNamesLayerAndLine) {
  kiln::Trace trace("bad");
  kiln::Tensor x = trace.input("x", {100, 3});
  kiln::nn::Linear layer(2, 10);
  std::string message = errorOf([&] { layer(x); });
  EXPECT_NE(message.find("frontend_test.cpp:"), std::string::npos) << message;
  EXPECT_NE(message.find("Linear(2, 10) expects input [batch, 2]"), std::string::npos) << message;
  EXPECT_NE(message.find("3 features"), std::string::npos) << message;
}

TEST(Frontend, MatmulNamesBothShapes) {
  kiln::Trace trace("bad");
  kiln::Tensor a = trace.input("a", {4, 5}), b = trace.input("b", {6, 7});
  std::string message = errorOf([&] { a.matmul(b); });
  EXPECT_NE(message.find("matmul: shapes [4, 5] and [6, 7] do not multiply"), std::string::npos)
      << message;
}

TEST(Frontend, BroadcastMismatch) {
  kiln::Trace trace("bad");
  kiln::Tensor a = trace.input("a", {4, 5}), b = trace.input("b", {3});
  EXPECT_NE(errorOf([&] { a + b; }).find("shapes [4, 5] and [3] cannot be broadcast together"),
            std::string::npos);
}

TEST(Frontend, LossMustBeScalar) {
  kiln::Trace trace("bad");
  kiln::Tensor a = trace.input("a", {4});
  EXPECT_NE(errorOf([&] { trace.finish(a); }).find("the loss must be a scalar"), std::string::npos);
}

TEST(Frontend, TracesTheTutorialNet) {
  kiln::Trace trace("ok");
  kiln::Tensor x = trace.input("x", {8, 1}), y = trace.input("y", {8, 1});
  kiln::nn::Linear hidden(1, 10), predict(10, 1);
  kiln::Tensor loss = kiln::nn::MSELoss()(predict(kiln::nn::relu(hidden(x))), y);
  std::string text = trace.finish(loss);
  EXPECT_NE(text.find("kiln.matmul"), std::string::npos);
  EXPECT_NE(text.find("kiln.param = \"weight\""), std::string::npos);
  EXPECT_NE(text.find("kiln.fan_in = 10"), std::string::npos);
}

} // namespace
