// The loader: epoch order, shuffling, which entry gets which batch, drop_last, and the
// tutorial's batch printout.
#include "kiln/loader.h"
#include "kiln/error.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "fake_model.h"
#include "kiln/model_abi.h"
#include "kiln/numpy_print.h"
#include "kiln/rng.h"
#include "test_util.h"

namespace {

using kiln::Batch;
using kiln::Loader;
using kiln::LoaderConfig;

// The minibatch lesson's model: batch 5 over 10 rows of shape [] (the tutorial's 1-D tensors).
kiln::Manifest minibatch_manifest(std::vector<fake::EntryDesc> entries = {{"t", "train", 5}}) {
  fake::Spec spec;
  spec.entries = std::move(entries);
  spec.x_row = spec.y_row = {};
  spec.train = R"("dataset": "minibatch", "epochs": 3, "batch": 5, "lr": 0.1)";
  return kiln::parse_manifest(fake::manifest(spec));
}

std::vector<int64_t> identity(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

TEST(Loader, ShuffleOffIsTheIdentity) {
  kiln::Manifest m = kiln::parse_manifest(kiln_manifest);
  kiln::Dataset d = kiln::make_dataset(m, 0);
  Loader loader(m, d, {32, false, false, 0});
  for (int64_t epoch : {0, 1, 7})
    EXPECT_EQ(loader.order(epoch), identity(100));
  std::vector<Batch> b = loader.batches(0);
  ASSERT_EQ(b.size(), 4u);
  const std::vector<int64_t> all = identity(100);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(b[size_t(i)].entry, 0) << "full batches go to the batch-32 entry";
    EXPECT_EQ(b[size_t(i)].index, i);
    EXPECT_EQ(b[size_t(i)].rows, std::vector<int64_t>(all.begin() + 32 * i, all.begin() + 32 * (i + 1)));
  }
  EXPECT_EQ(b[3].entry, 1) << "the last 4 rows go to the batch-4 entry";
  EXPECT_EQ(b[3].rows, (std::vector<int64_t>{96, 97, 98, 99}));
  EXPECT_EQ(loader.batches_per_epoch(), 4);
  EXPECT_EQ(loader.tail_entry(), 1);
  EXPECT_EQ(loader.tail_note(), "");
}

TEST(Loader, ShuffleIsASeededPermutationPerEpoch) {
  kiln::Manifest m = kiln::parse_manifest(kiln_manifest);
  kiln::Dataset d = kiln::make_dataset(m, 0);
  Loader a(m, d, {32, true, false, 1}), same(m, d, {32, true, false, 1}), other(m, d, {32, true, false, 2});
  std::vector<int64_t> e0 = a.order(0), e1 = a.order(1);
  std::vector<int64_t> sorted = e0;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, identity(100)) << "a permutation";
  EXPECT_NE(e0, identity(100));
  EXPECT_NE(e0, e1) << "every epoch is shuffled anew";
  EXPECT_EQ(e0, same.order(0)) << "same seed and epoch, same order";
  EXPECT_EQ(e1, same.order(1));
  EXPECT_NE(e0, other.order(0)) << "another seed, another order";

  // The documented draws: Fisher-Yates from the identity with Rng(seed, Shuffle, epoch).below(i + 1).
  kiln::Rng rng(1, kiln::RngStream::Shuffle, 1);
  std::vector<int64_t> expected = identity(100);
  for (size_t i = 99; i >= 1; --i)
    std::swap(expected[i], expected[size_t(rng.below(i + 1))]);
  EXPECT_EQ(e1, expected);

  // Batches cut the shuffled order in sequence.
  std::vector<Batch> b = a.batches(1);
  EXPECT_EQ(b[0].rows, std::vector<int64_t>(e1.begin(), e1.begin() + 32));
  EXPECT_EQ(b[3].rows, std::vector<int64_t>(e1.begin() + 96, e1.end()));
  EXPECT_EQ(b[3].entry, 1);
}

TEST(Loader, TailIsDroppedOnRequestOrWithoutAnEntry) {
  kiln::Manifest m = kiln::parse_manifest(kiln_manifest);
  kiln::Dataset d = kiln::make_dataset(m, 0);
  Loader dropped(m, d, {32, false, true, 0});
  EXPECT_EQ(dropped.batches(0).size(), 3u);
  EXPECT_EQ(dropped.tail_entry(), -1);
  EXPECT_EQ(dropped.tail_note(), "the last 4 of 100 rows are dropped each epoch (drop_last)");

  fake::Spec no_tail;
  no_tail.entries = {{"train_step", "train", 32}, {"eval", "eval", 100}};
  kiln::Manifest n = kiln::parse_manifest(fake::manifest(no_tail));
  try {
    Loader loader(n, d, {32, false, false, 0});
    ADD_FAILURE() << "a tail without a step was accepted";
  } catch (const kiln::UserError &e) {
    EXPECT_NE(std::string(e.what()).find("the last 4 make a short batch, and this binary has no step for a batch of 4"),
              std::string::npos)
        << e.what();
  }
}

// Data parallel: rank r of R takes the r-th of R equal parts of each batch, in the order one
// process would draw, for the step of batch B / R; a tail that does not split is refused.
TEST(Loader, RanksSplitEachBatchInOrder) {
  kiln::Manifest m = minibatch_manifest({{"t", "train", 5}, {"one", "train", 1}});
  kiln::Dataset d = kiln::make_dataset(m, 0);
  const Loader single(m, d, {5, true, false, 9});
  std::vector<std::vector<Batch>> parts;
  for (int r = 0; r < 5; ++r)
    parts.push_back(Loader(m, d, {5, true, false, 9, 5, r}).batches(1));
  const std::vector<Batch> whole = single.batches(1);
  ASSERT_EQ(whole.size(), 2u);
  for (size_t b = 0; b < whole.size(); ++b) {
    std::vector<int64_t> joined;
    for (int r = 0; r < 5; ++r) {
      ASSERT_EQ(parts[size_t(r)].size(), whole.size());
      EXPECT_EQ(parts[size_t(r)][b].entry, 1);
      joined.insert(joined.end(), parts[size_t(r)][b].rows.begin(), parts[size_t(r)][b].rows.end());
    }
    EXPECT_EQ(joined, whole[b].rows);
  }
  try {
    Loader uneven(m, d, {5, false, false, 0, 2, 0});
    ADD_FAILURE() << "a batch of 5 was split over 2 ranks";
  } catch (const kiln::UserError &e) {
    EXPECT_NE(std::string(e.what()).find("does not split evenly over 2 ranks"), std::string::npos) << e.what();
  }
}

TEST(Loader, CopiesTheBatchRowsIntoItsEntry) {
  kiln::Manifest m = minibatch_manifest({{"t", "train", 5}, {"tail", "train", 2}});
  kiln::Dataset d = kiln::make_dataset(m, 0);
  kiln::Arena arena(m.arena_bytes);
  Loader loader(m, d, {5, true, false, 4});
  for (const Batch &b : loader.batches(0)) {
    loader.copy(b, arena);
    const float *x = arena.f32(*m.find("x", b.entry)), *y = arena.f32(*m.find("y", b.entry));
    for (size_t i = 0; i < b.rows.size(); ++i) {
      EXPECT_EQ(x[i], float(b.rows[i] + 1));
      EXPECT_EQ(y[i], float(10 - b.rows[i]));
    }
  }
}

TEST(NumpyPrint, MatchesNumpy) {
  auto f = [](std::vector<float> v, std::vector<int64_t> shape = {}) {
    if (shape.empty())
      shape = {int64_t(v.size())};
    return kiln::numpy_array(v.data(), shape);
  };
  // The tutorial's lines.
  EXPECT_EQ(f({5, 7, 10, 3, 4}), "[ 5.  7. 10.  3.  4.]");
  EXPECT_EQ(f({6, 4, 1, 8, 7}), "[6. 4. 1. 8. 7.]");
  // Fractions: shortest round-trip digits, padded on the right.
  EXPECT_EQ(f({0.5f, 1.25f}), "[0.5  1.25]");
  EXPECT_EQ(f({-1, 2}), "[-1.  2.]");
  EXPECT_EQ(f({0.1f, -0.25f}), "[ 0.1  -0.25]");
  EXPECT_EQ(f({1.0f / 3}), "[0.33333334]");
  EXPECT_EQ(f({0, 0}), "[0. 0.]");
  // Scientific when the range is wide or values are tiny.
  EXPECT_EQ(f({1e-5f, 1}), "[1.e-05 1.e+00]");
  EXPECT_EQ(f({1.5e-5f, 1}), "[1.5e-05 1.0e+00]");
  EXPECT_EQ(f({NAN, 1.5f}), "[nan 1.5]");
  // Matrices and int32.
  EXPECT_EQ(f({1, 2, 3, 4}, {2, 2}), "[[1. 2.]\n [3. 4.]]");
  EXPECT_EQ(f({5, 7}, {2, 1}), "[[5.]\n [7.]]");
  const int32_t labels[4] = {0, 1, 10, 1};
  EXPECT_EQ(kiln::numpy_array(labels, {4}), "[ 0  1 10  1]");
  // Wrapping before 75 columns, continuation lines indented by one space.
  std::vector<float> many(20, 1.5f);
  std::string wrapped = f(many);
  EXPECT_EQ(wrapped, "[1.5 1.5 1.5 1.5 1.5 1.5 1.5 1.5 1.5 1.5 1.5 1.5 1.5 1.5 1.5 1.5 1.5 1.5\n 1.5 1.5]");
}

TEST(Loader, PrintsBatchesLikeTheTutorial) {
  kiln::Manifest m = minibatch_manifest();
  kiln::Dataset d = kiln::make_dataset(m, 0);
  Loader loader(m, d, {5, false, false, 0});
  std::vector<Batch> b = loader.batches(2);
  EXPECT_EQ(kiln::format_batch(m, d, b[0]),
            "Epoch:  2 | Step:  0 | batch x:  [1. 2. 3. 4. 5.] | batch y:  [10.  9.  8.  7.  6.]");
  EXPECT_EQ(kiln::format_batch(m, d, b[1]),
            "Epoch:  2 | Step:  1 | batch x:  [ 6.  7.  8.  9. 10.] | batch y:  [5. 4. 3. 2. 1.]");
  // The tutorial's example line, with the rows it shows.
  Batch tutorial{0, 0, 0, {4, 6, 9, 2, 3}};
  EXPECT_EQ(kiln::format_batch(m, d, tutorial),
            "Epoch:  0 | Step:  0 | batch x:  [ 5.  7. 10.  3.  4.] | batch y:  [6. 4. 1. 8. 7.]");
}

TEST(Loader, PrintBatchesFlagPrintsEveryStep) {
  fake::Spec spec;
  spec.entries = {{"t", "train", 5}, {"e", "eval", 10}};
  spec.x_row = spec.y_row = {};
  spec.train = R"("dataset": "minibatch", "epochs": 3, "batch": 5, "shuffle": true, "lr": 0.01)";
  testutil::RunResult r = testutil::run(fake::model_with_manifest(fake::manifest(spec)),
                                        {"--print-batches", "--quiet", "--output", "none", "--seed", "1"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<std::string> lines;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  ASSERT_EQ(lines.size(), 6u) << r.out;
  kiln::Manifest m = kiln::parse_manifest(fake::manifest(spec));
  kiln::Dataset d = kiln::make_dataset(m, 1);
  Loader loader(m, d, {5, true, false, 1});
  for (int64_t epoch = 0; epoch < 3; ++epoch)
    for (int s = 0; s < 2; ++s)
      EXPECT_EQ(lines[size_t(2 * epoch + s)], kiln::format_batch(m, d, loader.batches(epoch)[size_t(s)]));
  EXPECT_EQ(lines[0].rfind("Epoch:  0 | Step:  0 | batch x:  [", 0), 0u) << lines[0];
  EXPECT_EQ(lines[5].rfind("Epoch:  2 | Step:  1 | batch x:  [", 0), 0u) << lines[5];
  // What the kernel saw is what was printed: each batch's x, in order.
  ASSERT_EQ(fake::calls.size(), 6u + 1u) << "six train steps and one eval";
  for (int64_t epoch = 0; epoch < 3; ++epoch)
    for (int s = 0; s < 2; ++s) {
      const Batch b = loader.batches(epoch)[size_t(s)];
      std::vector<float> x;
      for (int64_t row : b.rows)
        x.push_back(float(row + 1));
      EXPECT_EQ(fake::calls[size_t(2 * epoch + s)].x, x);
      EXPECT_EQ(fake::calls[size_t(2 * epoch + s)].step, float(2 * epoch + s + 1)) << "global step t";
    }
}

} // namespace
