// The training binary's logic: flags -> manifest -> arena -> init/data -> loop -> outputs
// (contract in kiln/runtime_main.h). Each step is one call into its own module; this file only
// orders them and turns exceptions into exit codes.
#include "kiln/runtime_main.h"

#include <unistd.h>

#include <fmt/format.h>

#include <new>

#include "kiln/datasets.h"
#include "kiln/error.h"
#include "kiln/flags.h"
#include "kiln/init.h"
#include "kiln/model_abi.h"
#include "kiln/plot.h"
#include "kiln/tensor_io.h"

// Provided by the Halide runtime inside the compiled model; weak so that binaries without Halide
// kernels (and the runtime's tests) link without it.
extern "C" int halide_set_num_threads(int n) __attribute__((weak));

namespace kiln {
namespace {

std::string program_name(int argc, char **argv) {
    std::string p = argc > 0 && argv[0] ? argv[0] : "kiln-model";
    return p.substr(p.rfind('/') + 1);
}

// Fails before training rather than after it, when the result could not be written anyway.
void check_writable(const std::string &path, const char *what) {
    std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/') + 1);
    if (::access(dir.c_str(), W_OK) != 0)
        throw UserError(fmt::format("{}: cannot write the {} there: directory '{}' is missing or not writable",
                                    path, what, dir));
}

// Three decimals, the useful precision for real kernels; tiny models keep three significant digits.
std::string format_ms(double ms) { return ms >= 0.001 ? fmt::format("{:.3f}", ms) : fmt::format("{:.3g}", ms); }

std::vector<float> column(const Arena &arena, const TensorSpec &spec) {
    const float *p = arena.f32(spec);
    return std::vector<float>(p, p + spec.numel());
}

int run(const ModelAbi &model, const Options &options) {
    Manifest manifest = parse_manifest(model.manifest);

    TrainSettings settings;
    settings.steps = options.steps.value_or(manifest.train.steps);
    settings.lr = options.lr.value_or(manifest.train.lr);
    settings.log_every = manifest.train.log_every;
    settings.quiet = options.quiet;

    std::string picture = output_path(options, manifest);
    FitTensors fit = find_fit_tensors(manifest);
    if (!picture.empty() && !fit.fit) {
        if (options.output)
            fmt::print(stderr, "warning: model '{}' has no x, y inputs and output of shape [N, 1] to draw; "
                               "{} will not be written\n", manifest.model, picture);
        picture.clear();
    }
    if (!picture.empty()) {
        if (picture.size() < 4 || picture.compare(picture.size() - 4, 4, ".svg") != 0)
            throw UserError(fmt::format("{}: pictures are written as SVG; use a name ending in .svg", picture));
        check_writable(picture, "picture");
    }
    if (!options.save.empty()) check_writable(options.save, "parameters");
    MetricsWriter metrics;
    if (!options.metrics.empty()) metrics.open(options.metrics);

    if (halide_set_num_threads) halide_set_num_threads(options.threads);

    Arena arena(manifest.arena_bytes);
    if (int rc = model.bind(arena.data()); rc != 0)
        throw UserError(fmt::format("model '{}' could not bind its arena (code {})", manifest.model, rc));
    if (options.init.empty())
        init_params(manifest, arena, options.seed);
    else
        load_tensors(options.init, manifest, Role::Param, arena);
    if (options.data.empty())
        fill_dataset(manifest, arena, options.seed);
    else
        load_tensors(options.data, manifest, Role::Input, arena);

    TrainResult result = train(model, manifest, arena, settings, metrics);
    metrics.close();
    if (!options.quiet)
        fmt::print("final loss {} after {} steps, median step {} ms\n", format_loss(result.final_loss()),
                   settings.steps, format_ms(result.median_step_ms()));

    if (!options.save.empty()) {
        save_tensors(options.save, manifest, Role::Param, arena,
                     {{"model", manifest.model}, {"steps", std::to_string(settings.steps)}, {"format", "pt"}});
        if (!options.quiet) fmt::print("saved parameters to {}\n", options.save);
    }
    if (!picture.empty()) {
        FitPlot plot;
        plot.title = fmt::format("{}: final loss {}", manifest.model, format_loss(result.final_loss()));
        plot.x = column(arena, *fit.x);
        plot.y = column(arena, *fit.y);
        plot.fit = column(arena, *fit.fit);  // the forward of the last step
        plot_fit_svg(picture, plot);
        if (!options.quiet) fmt::print("wrote {}\n", picture);
    }
    return 0;
}

}  // namespace

ModelAbi linked_model() { return {kiln_manifest, kiln_bind, kiln_train_step}; }

int run_model(const ModelAbi &model, int argc, char **argv) {
    const std::string program = program_name(argc, argv);
    Options options;
    try {
        options = parse_flags(argc, argv);
    } catch (const UsageError &e) {
        fmt::print(stderr, "error: {} (see --help)\n", e.what());
        return 2;
    }
    try {
        if (options.help) {
            // Show the model's defaults when the manifest is readable; the help itself must not fail.
            try {
                Manifest m = parse_manifest(model.manifest);
                print_help(stdout, program.c_str(), &m);
            } catch (const UserError &) {
                print_help(stdout, program.c_str(), nullptr);
            }
            return 0;
        }
        return run(model, options);
    } catch (const UserError &e) {
        fmt::print(stderr, "error: {}\n", e.what());
    } catch (const std::bad_alloc &) {
        fmt::print(stderr, "error: out of memory\n");
    } catch (const std::exception &e) {
        fmt::print(stderr, "internal error in the kiln runtime: {} (please report this)\n", e.what());
    }
    return 1;
}

}  // namespace kiln

int kiln_runtime_main(int argc, char **argv) { return kiln::run_model(kiln::linked_model(), argc, argv); }
