// The names the tracer, the compiler and the runtime agree on, each declared once: the kiln.*
// attributes of a model's IR, the roles of its functions and of the compiled step's tensors, and
// the metadata keys of its checkpoints. Plain C++17, so the runtime and the DSL include it too;
// nothing else in the tree spells a "kiln.*" name (test/contract checks).
#ifndef KILN_CONTRACT_H
#define KILN_CONTRACT_H

#include "kiln/types.h"

#include <cstddef>
#include <optional>
#include <string_view>

namespace kiln {

// What a function of the model's IR is for (its kiln.role): a traced train entry to
// differentiate, its gradient, its update step, or a forward-only entry.
enum class FunctionRole { forward, grad, train, eval };

// What a tensor of the compiled step holds (its "role" in the manifest).
enum class Role { Param, State, Input, Lr, Step, Loss, Output, Random, Buffer };

// An enumerator and how it is written in the IR, the manifest or a checkpoint.
template <typename Enum> struct Spelling {
  Enum value;
  std::string_view name;
};

inline constexpr Spelling<FunctionRole> kFunctionRoles[] = {{FunctionRole::forward, "forward"},
                                                            {FunctionRole::grad, "grad"},
                                                            {FunctionRole::train, "train"},
                                                            {FunctionRole::eval, "eval"}};

inline constexpr Spelling<Role> kRoles[] = {
    {Role::Param, "param"},   {Role::State, "state"},   {Role::Input, "input"},
    {Role::Lr, "lr"},         {Role::Step, "step"},     {Role::Loss, "loss"},
    {Role::Output, "output"}, {Role::Random, "random"}, {Role::Buffer, "buffer"}};

inline constexpr Spelling<EntryKind> kEntryKinds[] = {{EntryKind::train, "train"}, {EntryKind::eval, "eval"}};

template <typename Enum, std::size_t N>
constexpr std::string_view spelling(const Spelling<Enum> (&table)[N], Enum value) {
  for (const Spelling<Enum> &s : table)
    if (s.value == value)
      return s.name;
  return {};
}

template <typename Enum, std::size_t N>
constexpr std::optional<Enum> parseSpelling(const Spelling<Enum> (&table)[N], std::string_view name) {
  for (const Spelling<Enum> &s : table)
    if (s.name == name)
      return s.value;
  return std::nullopt;
}

// The kiln.* attributes of a model's IR.
namespace attr {
// On the module.
inline constexpr char model[] = "kiln.model";         // the model's name (string)
inline constexpr char train[] = "kiln.train";         // training settings (keys in setting::)
inline constexpr char optimizer[] = "kiln.optimizer"; // {name, hyper-parameters}
inline constexpr char min_rows[] = "kiln.min_rows";   // {rows, why}: fewest rows a step trains on
inline constexpr char ranks[] = "kiln.ranks";         // data-parallel processes, when more than 1
// On a function: its FunctionRole.
inline constexpr char role[] = "kiln.role";
// On a function's arguments: what each one is.
inline constexpr char param[] = "kiln.param";     // a trained parameter (its name)
inline constexpr char fan_in[] = "kiln.fan_in";   // a parameter's fan-in, for PyTorch's init
inline constexpr char init[] = "kiln.init";       // a constant start instead of the default
inline constexpr char integer[] = "kiln.integer"; // a buffer that counts (int64 in files)
inline constexpr char buffer[] = "kiln.buffer";   // module state that is not trained (its name)
inline constexpr char state[] = "kiln.state";     // optimizer state (its name)
inline constexpr char input[] = "kiln.input";     // a batch input (its name)
inline constexpr char lr[] = "kiln.lr";           // the learning rate of this step
inline constexpr char step[] = "kiln.step";       // the step counter
inline constexpr char random[] = "kiln.random";   // the generator's key of this step
// On a function's results.
inline constexpr char output[] = "kiln.output";       // a named output ("loss" first)
inline constexpr char update_of[] = "kiln.update_of"; // the new value of a parameter or state
inline constexpr char grad_of[] = "kiln.grad_of";     // the gradient of a parameter
// On ops.
inline constexpr char sources[] = "kiln.sources";   // a kernel's DSL lines
inline constexpr char unfused[] = "kiln.unfused";   // why each result of a kernel is written to memory
inline constexpr char of[] = "kiln.of";             // what an all-reduce sums
inline constexpr char schedule[] = "kiln.schedule"; // a kernel's schedule, in words
} // namespace attr

// Keys of the kiln.train dictionary (also the manifest's "train" object).
namespace setting {
inline constexpr char batch[] = "batch";
inline constexpr char data_dir[] = "data_dir";
inline constexpr char dataset[] = "dataset";
inline constexpr char draw[] = "draw";
inline constexpr char drop_last[] = "drop_last";
inline constexpr char epochs[] = "epochs";
inline constexpr char eval_every[] = "eval_every";
inline constexpr char eval_subset[] = "eval_subset";
inline constexpr char log_every[] = "log_every";
inline constexpr char lr[] = "lr";
inline constexpr char print_batches[] = "print_batches";
inline constexpr char show_predictions[] = "show_predictions";
inline constexpr char shuffle[] = "shuffle";
inline constexpr char steps[] = "steps";
inline constexpr char summary[] = "summary";
inline constexpr char task[] = "task";

// What each setting holds: the model's IR is refused when one holds anything else.
enum class Kind { text, count, number, flag };
struct Spec {
  const char *key;
  Kind kind;
};
inline constexpr Spec kSpecs[] = {
    {batch, Kind::count},     {data_dir, Kind::text}, {dataset, Kind::text},       {draw, Kind::flag},
    {drop_last, Kind::flag},  {epochs, Kind::count},  {eval_every, Kind::count},   {eval_subset, Kind::count},
    {log_every, Kind::count}, {lr, Kind::number},     {print_batches, Kind::flag}, {show_predictions, Kind::count},
    {shuffle, Kind::flag},    {steps, Kind::count},   {summary, Kind::text},       {task, Kind::text}};
// The tasks the runtime's loop knows.
inline constexpr std::string_view kTasks[] = {"regression", "classification"};
} // namespace setting

// Keys of the kiln.min_rows dictionary.
namespace min_rows {
inline constexpr char rows[] = "rows";
inline constexpr char why[] = "why";
} // namespace min_rows

// Keys of the kiln.optimizer dictionary other than its hyper-parameters.
namespace optimizer_key {
inline constexpr char name[] = "name";
} // namespace optimizer_key

// Metadata keys of the safetensors files the binaries write.
namespace checkpoint_key {
inline constexpr char format[] = "kiln.format"; // "params", "whole-net" or a resumable run's
inline constexpr char model[] = "kiln.model";
inline constexpr char ir[] = "kiln.ir"; // a whole net's traced model
inline constexpr char dataset[] = "kiln.dataset";
inline constexpr char seed[] = "kiln.seed";
inline constexpr char step[] = "kiln.step";
inline constexpr char epoch[] = "kiln.epoch";
inline constexpr char batch_in_epoch[] = "kiln.batch_in_epoch";
inline constexpr char batches_per_epoch[] = "kiln.batches_per_epoch";
inline constexpr char batch[] = "kiln.batch";
inline constexpr char data_rows[] = "kiln.data_rows";
inline constexpr char shuffle[] = "kiln.shuffle";
inline constexpr char drop_last[] = "kiln.drop_last";
} // namespace checkpoint_key

} // namespace kiln

#endif
