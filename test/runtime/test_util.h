// Helpers shared by the runtime tests: a temporary directory, file I/O, calling run_model.
#ifndef KILN_TEST_RUNTIME_UTIL_H
#define KILN_TEST_RUNTIME_UTIL_H

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <functional>
#include <string>
#include <vector>

#include "kiln/error.h"
#include "kiln/runtime_main.h"

namespace testutil {

// A fresh directory under $TMPDIR, removed with everything in it at the end of the test.
class TempDir {
public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kiln_rt_XXXXXX").string();
    if (!mkdtemp(tmpl.data()))
      ADD_FAILURE() << "mkdtemp failed";
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string operator/(const std::string &name) const { return path_ + "/" + name; }
  const std::string &path() const { return path_; }

private:
  std::string path_;
};

// The message parse_manifest throws for `text`, or "" when it parses.
inline std::string manifest_error(const std::string &text) {
  try {
    kiln::parse_manifest(text);
  } catch (const kiln::UserError &e) {
    return e.what();
  }
  return "";
}

inline std::string read_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

struct RunResult {
  int code;
  std::string out, err;
};

// run_model with argv {"fake_model", args...}, capturing stdout and stderr.
inline RunResult run(const kiln::ModelAbi &model, std::vector<std::string> args) {
  args.insert(args.begin(), "fake_model");
  std::vector<char *> argv;
  for (std::string &a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  int code = kiln::run_model(model, int(args.size()), argv.data());
  RunResult r{code, testing::internal::GetCapturedStdout(), testing::internal::GetCapturedStderr()};
  return r;
}

// Every line of a metrics file, parsed.
inline std::vector<nlohmann::json> metrics_lines(const std::string &path) {
  std::vector<nlohmann::json> out;
  std::istringstream in(read_file(path));
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON: " << line;
    out.push_back(j);
  }
  return out;
}

// A CSV file as rows of cells (no quoting: kiln writes none).
inline std::vector<std::vector<std::string>> read_csv(const std::string &path) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::istringstream cols(line);
    for (std::string cell; std::getline(cols, cell, ',');)
      cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}

// The message of the kiln::UserError that f throws, or "" if it throws none.
inline std::string error_of(const std::function<void()> &f) {
  try {
    f();
  } catch (const kiln::UserError &e) {
    return e.what();
  }
  return "";
}

inline size_t count_lines(const std::string &text) { return size_t(std::count(text.begin(), text.end(), '\n')); }

} // namespace testutil

#endif
