// kiln_fake_cnn: the image-classifier fake (fake_model.h) as a whole training binary, for the tests
// that need their own process: the progress line on a pseudo-terminal and the peak memory of a
// run over the real Fashion-MNIST files. Lesson 10's layout (train batch 50, eval batch 500,
// evaluation every 50 steps on 2,000 test images, 10 predictions shown) reading
// $KILN_FAKE_DATA (default /usr/share/datasets/fashion-mnist); with KILN_FAKE_SMALL=1, the small
// layout of fake::image_classifier_spec() for generated folders.
#include <cstdlib>
#include <string>

#include "fake_model.h"
#include "kiln/runtime_main.h"

int main(int argc, char **argv) {
  fake::record_calls = false; // the run's memory is what it measures
  const char *dir = std::getenv("KILN_FAKE_DATA");
  fake::Spec spec = fake::image_classifier_spec(dir ? dir : "/usr/share/datasets/fashion-mnist");
  const char *small = std::getenv("KILN_FAKE_SMALL");
  if (!small || std::string(small) != "1") {
    spec.entries = {{"train_step", "train", 50}, {"eval", "eval", 500}};
    spec.train = R"("dataset": "mnist", "task": "classification", "epochs": 1, "batch": 50, "shuffle": true, )"
                 R"("lr": 0.01, "log_every": 50, "eval_every": 50, "eval_subset": 2000, "show_predictions": 10)";
    if (dir)
      spec.train += std::string(R"(, "data_dir": ")") + dir + "\"";
  }
  return kiln::run_model(fake::classifier(fake::manifest(spec)), argc, argv);
}
