// Manifest parsing and validation (contract in kiln/manifest.h).
#include "kiln/manifest.h"

#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iterator>
#include <limits>

#include "kiln/error.h"

namespace kiln {
namespace {

using nlohmann::json;

// A dimension above 2^40 elements is certainly a compiler bug, not a model.
constexpr int64_t kMaxDim = int64_t(1) << 40;

[[noreturn]] void fail(const std::string &what) { throw UserError("model manifest: " + what); }

const json &field(const json &obj, const char *key, const std::string &where) {
  auto it = obj.find(key);
  if (it == obj.end())
    fail(fmt::format("{}: missing \"{}\"", where, key));
  return *it;
}

uint64_t unsigned_field(const json &obj, const char *key, const std::string &where) {
  const json &v = field(obj, key, where);
  if (!v.is_number_unsigned())
    fail(fmt::format("{}: \"{}\" must be a non-negative integer", where, key));
  return v.get<uint64_t>();
}

std::string string_field(const json &obj, const char *key, const std::string &where) {
  const json &v = field(obj, key, where);
  if (!v.is_string())
    fail(fmt::format("{}: \"{}\" must be a string", where, key));
  return v.get<std::string>();
}

// An optional integer field >= lo; `value` keeps its default when the key is absent.
void optional_int(const json &obj, const char *key, const std::string &where, int64_t lo, int64_t &value) {
  auto it = obj.find(key);
  if (it == obj.end())
    return;
  if (!it->is_number_integer() || it->get<int64_t>() < lo)
    fail(fmt::format("{}: \"{}\" must be {}", where, key, lo > 0 ? "a positive integer" : "a non-negative integer"));
  value = it->get<int64_t>();
}

void optional_bool(const json &obj, const char *key, const std::string &where, bool &value) {
  auto it = obj.find(key);
  if (it == obj.end())
    return;
  if (!it->is_boolean())
    fail(fmt::format("{}: \"{}\" must be true or false", where, key));
  value = it->get<bool>();
}

EntrySpec parse_entry(const json &e, size_t index) {
  std::string where = fmt::format("entry #{}", index);
  if (!e.is_object())
    fail(where + ": must be an object");
  EntrySpec spec;
  spec.name = string_field(e, "name", where);
  where = fmt::format("entry '{}'", spec.name);
  std::string kind = string_field(e, "kind", where);
  std::optional<EntryKind> parsed = parseSpelling(kEntryKinds, kind);
  if (!parsed)
    fail(fmt::format("{}: unknown kind '{}' (expected train or eval)", where, kind));
  spec.kind = *parsed;
  const json &batch = field(e, "batch", where);
  if (!batch.is_number_integer() || batch.get<int64_t>() < 1 || batch.get<int64_t>() > kMaxDim)
    fail(where + ": \"batch\" must be a positive integer");
  spec.batch = batch.get<int64_t>();
  if (auto it = e.find("kernels"); it != e.end()) {
    if (!it->is_array())
      fail(where + ": \"kernels\" must be an array of names");
    for (const json &k : *it) {
      if (!k.is_string())
        fail(where + ": \"kernels\" must be an array of names");
      spec.kernels.push_back(k.get<std::string>());
    }
  }
  if (auto it = e.find("kernel_work"); it != e.end()) {
    auto bad = [&] {
      fail(where + ": \"kernel_work\" must be an array of [FLOPs, bytes] pairs of non-negative integers");
    };
    if (!it->is_array())
      bad();
    for (const json &w : *it) {
      if (!w.is_array() || w.size() != 2 || !w[0].is_number_integer() || !w[1].is_number_integer() ||
          w[0].get<int64_t>() < 0 || w[1].get<int64_t>() < 0)
        bad();
      spec.kernel_work.push_back({w[0].get<int64_t>(), w[1].get<int64_t>()});
    }
  }
  if (auto it = e.find("collectives"); it != e.end()) {
    if (!it->is_array())
      fail(where + ": \"collectives\" must be an array");
    for (const json &c : *it) {
      if (!c.is_object())
        fail(where + ": each collective must be an object");
      CollectiveSpec col;
      col.of = string_field(c, "of", where + "'s collective");
      const std::string at = fmt::format("{}'s collective '{}'", where, col.of);
      optional_int(c, "elements", at, 0, col.elements);
      optional_int(c, "start", at, 0, col.start);
      optional_int(c, "wait", at, 0, col.wait);
      if (col.wait < col.start)
        fail(at + ": waited for before it starts");
      spec.collectives.push_back(col);
    }
  }
  return spec;
}

// The tensor's role, and the entry it belongs to unless the role is shared by every entry.
// Returns the role as spelled in the manifest; `where` comes to name the entry too.
std::string parse_role_and_entry(const json &t, const Manifest &m, TensorSpec &spec, std::string &where) {
  std::string role = string_field(t, "role", where);
  std::optional<Role> known = parseSpelling(kRoles, role);
  if (!known)
    fail(fmt::format("{}: unknown role '{}'", where, role));
  spec.role = *known;

  const bool shared = spec.role == Role::Param || spec.role == Role::State || spec.role == Role::Buffer;
  if (auto it = t.find("entry"); it != t.end()) {
    if (shared)
      fail(fmt::format("{}: a '{}' tensor is shared by every entry and takes no \"entry\"", where, role));
    if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() >= int64_t(m.entries.size()))
      fail(fmt::format("{}: \"entry\" {} is not an index into the {} entries", where, it->dump(), m.entries.size()));
    spec.entry = int(it->get<int64_t>());
    where = fmt::format("tensor '{}' of entry '{}'", spec.name, m.entries[size_t(spec.entry)].name);
  } else if (!shared) {
    fail(fmt::format("{}: a '{}' tensor needs an \"entry\"", where, role));
  }
  return role;
}

// The element type, and whether the role allows it (only inputs, outputs and the key are i32).
void parse_dtype(const json &t, const std::string &role, const std::string &where, TensorSpec &spec) {
  std::string dtype = string_field(t, "dtype", where);
  if (dtype == "f32")
    spec.dtype = DType::f32;
  else if (dtype == "i32")
    spec.dtype = DType::i32;
  else
    fail(fmt::format("{}: dtype '{}' is not supported (f32 or i32)", where, dtype));
  if (spec.role == Role::Random) {
    if (spec.dtype != DType::i32)
      fail(fmt::format("{}: a 'random' tensor must be i32, not {}", where, dtype));
  } else if (spec.dtype == DType::i32 && spec.role != Role::Input && spec.role != Role::Output) {
    fail(fmt::format("{}: a '{}' tensor must be f32, not i32", where, role));
  }
}

// The shape, each dimension in [0, kMaxDim].
void parse_shape(const json &t, const std::string &where, TensorSpec &spec) {
  const json &shape = field(t, "shape", where);
  if (!shape.is_array())
    fail(where + ": \"shape\" must be an array");
  for (const json &d : shape) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0 || d.get<int64_t>() > kMaxDim)
      fail(fmt::format("{}: bad shape {}", where, shape.dump()));
    spec.shape.push_back(d.get<int64_t>());
  }
}

// The offset, and that the tensor's bytes lie aligned and inside the arena.
void parse_placement(const json &t, const Manifest &m, const std::string &where, TensorSpec &spec) {
  spec.offset = unsigned_field(t, "offset", where);
  // Kernels read 4-byte elements through aligned pointers; a misaligned offset is a compiler bug.
  if (spec.offset % 4 != 0)
    fail(fmt::format("{}: offset {} is not 4-byte aligned", where, spec.offset));
  uint64_t n = 1;
  for (int64_t d : spec.shape) {
    // Guards numel * 4 against overflow; the arena bound below does the real check.
    if (d != 0 && n > (std::numeric_limits<uint64_t>::max() / 4) / uint64_t(d))
      fail(fmt::format("{}: shape {} is too large", where, shape_string(spec.shape)));
    n *= uint64_t(d);
  }
  if (spec.offset > m.arena_bytes || spec.bytes() > m.arena_bytes - spec.offset)
    fail(fmt::format("{}: offset {} + {} bytes lies outside the arena of {} bytes", where, spec.offset, spec.bytes(),
                     m.arena_bytes));
}

// The fields only some roles take: a param's fan_in, an initial value, a buffer's "integer".
void parse_role_fields(const json &t, const std::string &where, TensorSpec &spec) {
  if (spec.role == Role::Param) {
    spec.fan_in = unsigned_field(t, "fan_in", where);
    if (spec.fan_in == 0)
      fail(where + ": fan_in must be positive");
  }
  if (auto it = t.find("init"); it != t.end()) {
    if (spec.role != Role::Param && spec.role != Role::Buffer)
      fail(fmt::format("{}: only params and buffers take an \"init\"", where));
    if (!it->is_number() || !std::isfinite(float(it->get<double>())))
      fail(fmt::format("{}: \"init\" must be a number a float holds", where));
    spec.init = it->get<double>();
  }
  if (auto it = t.find("integer"); it != t.end()) {
    if (spec.role != Role::Buffer || !it->is_boolean())
      fail(fmt::format("{}: \"integer\" is true or false, and only for buffers", where));
    spec.integer = it->get<bool>();
    if (spec.integer && spec.dtype != DType::f32)
      fail(fmt::format("{}: a counting buffer is f32", where));
    double start = spec.init.value_or(0.0);
    if (spec.integer && !(start >= 0 && start <= double(1 << 24) && start == std::floor(start)))
      fail(fmt::format("{}: a counting buffer starts at a whole number in [0, 2^24], not {}", where, start));
  }
}

// The shapes the role fixes: one value for lr, step and loss, [4] for the key, the entry's batch
// first for inputs and outputs.
void check_role_shape(const Manifest &m, const std::string &role, const std::string &where, const TensorSpec &spec) {
  if ((spec.role == Role::Lr || spec.role == Role::Step || spec.role == Role::Loss) && spec.numel() != 1)
    fail(fmt::format("{}: a '{}' tensor must hold one value, shape is {}", where, role, shape_string(spec.shape)));
  if (spec.role == Role::Random && spec.shape != std::vector<int64_t>{4})
    fail(fmt::format("{}: a 'random' tensor holds the generator's key, shape [4], not {}", where,
                     shape_string(spec.shape)));
  if (spec.role == Role::Input || spec.role == Role::Output) {
    int64_t batch = m.entries[size_t(spec.entry)].batch;
    if (spec.shape.empty() || spec.shape[0] != batch)
      fail(fmt::format("{}: shape {} must start with the entry's batch {}", where, shape_string(spec.shape), batch));
  }
}

TensorSpec parse_tensor(const json &t, size_t index, const Manifest &m) {
  std::string where = fmt::format("tensor #{}", index);
  if (!t.is_object())
    fail(where + ": must be an object");
  TensorSpec spec;
  spec.name = string_field(t, "name", where);
  where = fmt::format("tensor '{}'", spec.name);
  const std::string role = parse_role_and_entry(t, m, spec, where);
  parse_dtype(t, role, where, spec);
  parse_shape(t, where, spec);
  parse_placement(t, m, where, spec);
  parse_role_fields(t, where, spec);
  check_role_shape(m, role, where, spec);
  return spec;
}

TrainConfig parse_train(const json &train) {
  const std::string where = "\"train\"";
  if (!train.is_object())
    fail(where + " must be an object");
  TrainConfig cfg;
  cfg.dataset = string_field(train, setting::dataset, where);
  if (train.contains(setting::task)) {
    cfg.task = string_field(train, setting::task, where);
    if (std::find(std::begin(setting::kTasks), std::end(setting::kTasks), cfg.task) == std::end(setting::kTasks))
      fail(fmt::format("{}: unknown task '{}' (expected regression or classification)", where, cfg.task));
  }
  optional_int(train, setting::epochs, where, 0, cfg.epochs);
  optional_int(train, setting::steps, where, 0, cfg.steps);
  if (cfg.epochs == 0 && cfg.steps == 0)
    fail(where + ": \"epochs\" and \"steps\" are both 0; nothing would train");
  optional_int(train, setting::batch, where, 0, cfg.batch);
  optional_bool(train, setting::shuffle, where, cfg.shuffle);
  optional_bool(train, setting::drop_last, where, cfg.drop_last);
  const json &lr = field(train, setting::lr, where);
  if (!lr.is_number())
    fail(where + ": \"lr\" must be a number");
  cfg.lr = lr.get<double>();
  optional_int(train, setting::log_every, where, 1, cfg.log_every);
  optional_bool(train, setting::print_batches, where, cfg.print_batches);
  if (train.contains(setting::summary))
    cfg.summary = string_field(train, setting::summary, where);
  optional_bool(train, setting::draw, where, cfg.draw);
  if (train.contains(setting::data_dir))
    cfg.data_dir = string_field(train, setting::data_dir, where);
  optional_int(train, setting::eval_every, where, 0, cfg.eval_every);
  optional_int(train, setting::eval_subset, where, 0, cfg.eval_subset);
  optional_int(train, setting::show_predictions, where, 0, cfg.show_predictions);
  return cfg;
}

// Checks that need every entry and tensor: roles per entry, one input layout for all entries.
void check_entries(Manifest &m) {
  int evals = 0;
  for (size_t e = 0; e < m.entries.size(); ++e) {
    const EntrySpec &entry = m.entries[e];
    const std::string where = fmt::format("entry '{}'", entry.name);
    for (size_t o = 0; o < e; ++o) {
      if (m.entries[o].name == entry.name)
        fail(fmt::format("{} appears twice", where));
      if (entry.kind == EntryKind::train && m.entries[o].kind == EntryKind::train && m.entries[o].batch == entry.batch)
        fail(
            fmt::format("{} and entry '{}' are both train entries of batch {}", where, m.entries[o].name, entry.batch));
    }
    const bool train = entry.kind == EntryKind::train;
    const std::string_view kind = spelling(kEntryKinds, entry.kind);
    evals += !train;
    for (Role r : {Role::Loss, Role::Lr, Role::Step}) {
      size_t count = m.entry_tensors(int(e), r).size();
      size_t want = train || r == Role::Loss ? 1 : 0;
      if (count != want)
        fail(fmt::format("{} ({}) has {} tensors of role '{}', it needs {}", where, kind, count, role_name(r),
                         want == 1 ? "exactly one" : "none"));
    }
    size_t keys = m.entry_tensors(int(e), Role::Random).size();
    if (keys > (train ? 1 : 0))
      fail(fmt::format("{} ({}) has {} tensors of role 'random', it needs {}", where, kind, keys,
                       train ? "at most one" : "none"));
    if (m.entry_tensors(int(e), Role::Input).empty())
      fail(where + " has no input");
  }
  if (evals > 1)
    fail(fmt::format("{} eval entries; at most one is supported", evals));

  // Every entry's inputs match the first entry's by name, dtype and row shape.
  std::vector<const TensorSpec *> ref = m.entry_tensors(0, Role::Input);
  for (size_t e = 1; e < m.entries.size(); ++e) {
    std::vector<const TensorSpec *> mine = m.entry_tensors(int(e), Role::Input);
    for (const TensorSpec *r : ref) {
      const TensorSpec *t = m.find(r->name, int(e));
      if (!t || t->role != Role::Input)
        fail(fmt::format("entry '{}' has no input '{}', which entry '{}' has; every entry takes the same inputs",
                         m.entries[e].name, r->name, m.entries[0].name));
      if (t->dtype != r->dtype || t->row_shape() != r->row_shape())
        fail(fmt::format("input '{}' of entry '{}' is {} with rows {}, but {} with rows {} in entry '{}'", r->name,
                         m.entries[e].name, dtype_name(t->dtype), shape_string(t->row_shape()), dtype_name(r->dtype),
                         shape_string(r->row_shape()), m.entries[0].name));
    }
    if (mine.size() != ref.size())
      fail(fmt::format("entry '{}' has {} inputs, entry '{}' has {}; every entry takes the same inputs",
                       m.entries[e].name, mine.size(), m.entries[0].name, ref.size()));
  }

  int first_train = -1;
  for (size_t e = 0; e < m.entries.size() && first_train < 0; ++e)
    if (m.entries[e].kind == EntryKind::train)
      first_train = int(e);
  if (first_train < 0)
    fail("no entry has kind 'train'");
  // The train batch is global; each of the ranks' steps takes an equal share of it.
  if (m.train.batch == 0)
    m.train.batch = m.entries[size_t(first_train)].batch * m.ranks;
  if (m.train.batch % m.ranks != 0 || m.train_entry(m.train.batch / m.ranks) < 0)
    fail(m.ranks == 1 ? fmt::format("\"train\": \"batch\" {} is not the batch of any train entry", m.train.batch)
                      : fmt::format("\"train\": \"batch\" {} over {} ranks is not the batch of any train entry",
                                    m.train.batch, m.ranks));
}

} // namespace

const char *role_name(Role role) {
  // The table's spellings are string literals, so data() ends in a '\0'.
  std::string_view name = spelling(kRoles, role);
  return name.empty() ? "?" : name.data();
}

const char *dtype_name(DType d) { return d == DType::i32 ? "i32" : "f32"; }
const char *safetensors_dtype(DType d) { return d == DType::i32 ? "I32" : "F32"; }

uint64_t TensorSpec::numel() const {
  uint64_t n = 1;
  for (int64_t d : shape)
    n *= uint64_t(d);
  return n;
}

uint64_t TensorSpec::bytes() const { return numel() * 4; }

std::vector<int64_t> TensorSpec::row_shape() const {
  return shape.empty() ? shape : std::vector<int64_t>(shape.begin() + 1, shape.end());
}

uint64_t TensorSpec::row_numel() const {
  uint64_t n = 1;
  for (int64_t d : row_shape())
    n *= uint64_t(d);
  return n;
}

const TensorSpec *Manifest::find(std::string_view name, int entry) const {
  for (const TensorSpec &t : tensors)
    if (t.entry == entry && t.name == name)
      return &t;
  return nullptr;
}

const TensorSpec *Manifest::find_role(Role role, int entry) const {
  for (const TensorSpec &t : tensors)
    if (t.entry == entry && t.role == role)
      return &t;
  return nullptr;
}

std::vector<const TensorSpec *> Manifest::with_role(Role role) const {
  std::vector<const TensorSpec *> out;
  for (const TensorSpec &t : tensors)
    if (t.role == role)
      out.push_back(&t);
  return out;
}

std::vector<const TensorSpec *> Manifest::entry_tensors(int entry, Role role) const {
  std::vector<const TensorSpec *> out;
  for (const TensorSpec &t : tensors)
    if (t.entry == entry && t.role == role)
      out.push_back(&t);
  return out;
}

int Manifest::train_entry(int64_t batch) const {
  for (size_t e = 0; e < entries.size(); ++e)
    if (entries[e].kind == EntryKind::train && entries[e].batch == batch)
      return int(e);
  return -1;
}

int Manifest::eval_entry() const {
  for (size_t e = 0; e < entries.size(); ++e)
    if (entries[e].kind == EntryKind::eval)
      return int(e);
  return -1;
}

std::string shape_string(const std::vector<int64_t> &shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

Manifest parse_manifest(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    fail("not valid JSON");
  if (!j.is_object())
    fail("must be a JSON object");

  Manifest m;
  m.model = string_field(j, "model", "top level");
  m.arena_bytes = unsigned_field(j, "arena_bytes", "top level");
  m.train = parse_train(field(j, "train", "top level"));
  if (j.contains("device")) {
    m.device = string_field(j, "device", "top level");
    if (m.device != "host" && m.device != "cuda" && m.device != "opencl")
      fail(fmt::format("unknown device '{}' (host, cuda or opencl)", m.device));
  }

  optional_int(j, "ranks", "top level", 1, m.ranks);
  optional_int(j, "vector_lanes", "top level", 0, m.vector_lanes);

  const json &entries = field(j, "entries", "top level");
  if (!entries.is_array() || entries.empty())
    fail("\"entries\" must be a non-empty array");
  for (size_t i = 0; i < entries.size(); ++i)
    m.entries.push_back(parse_entry(entries[i], i));

  const json &tensors = field(j, "tensors", "top level");
  if (!tensors.is_array())
    fail("\"tensors\" must be an array");
  for (size_t i = 0; i < tensors.size(); ++i) {
    TensorSpec spec = parse_tensor(tensors[i], i, m);
    if (m.find(spec.name, spec.entry))
      fail(spec.entry == kShared
               ? fmt::format("tensor '{}' appears twice", spec.name)
               : fmt::format("tensor '{}' appears twice in entry '{}'", spec.name, m.entries[size_t(spec.entry)].name));
    if (spec.entry != kShared && m.find(spec.name, kShared))
      fail(fmt::format("tensor '{}' of entry '{}' has the name of a shared tensor", spec.name,
                       m.entries[size_t(spec.entry)].name));
    if (spec.entry == kShared)
      for (const TensorSpec &t : m.tensors)
        if (t.name == spec.name)
          fail(fmt::format("shared tensor '{}' has the name of an entry's tensor", spec.name));
    m.tensors.push_back(std::move(spec));
  }
  check_entries(m);
  return m;
}

} // namespace kiln
