// numpy-style array printing (contract in kiln/numpy_print.h). Follows numpy's FloatingFormat
// (floatmode 'maxprec', precision 8) and _formatArray with a line width of 75.
#include "kiln/numpy_print.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>

namespace kiln {
namespace {

constexpr size_t kLineWidth = 75;
constexpr int kPrecision = 8;

bool round_trips(const std::string &s, float v) { return std::strtof(s.c_str(), nullptr) == v; }

// The fewest digits after the point (at most kPrecision) that give `v` back, in fixed or
// scientific notation; returns that count.
int shortest_digits(float v, bool scientific) {
  for (int p = 0; p < kPrecision; ++p) {
    std::string s = scientific ? fmt::format("{:.{}e}", v, p) : fmt::format("{:.{}f}", v, p);
    if (round_trips(s, v))
      return p;
  }
  return kPrecision;
}

// Formats every element of a float array to equal width, as numpy's FloatingFormat does.
std::vector<std::string> format_floats(const float *data, size_t n) {
  double max_abs = 0, min_abs = INFINITY;
  bool any_finite = false;
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(data[i]))
      continue;
    any_finite = true;
    double a = std::fabs(double(data[i]));
    if (a == 0)
      continue;
    max_abs = std::max(max_abs, a);
    min_abs = std::min(min_abs, a);
  }
  const bool scientific = max_abs != 0 && (max_abs >= 1e8 || min_abs < 1e-4 || max_abs / min_abs > 1e3);

  std::vector<std::string> out(n);
  size_t pad_left = 0, pad_right = 0;
  if (scientific) {
    int precision = 0;
    for (size_t i = 0; i < n; ++i)
      if (std::isfinite(data[i]))
        precision = std::max(precision, shortest_digits(data[i], true));
    size_t exp_digits = 2;
    for (size_t i = 0; i < n; ++i) {
      if (!std::isfinite(data[i]))
        continue;
      std::string s = fmt::format("{:.{}e}", data[i], precision);
      size_t e = s.find('e');
      std::string mantissa = s.substr(0, e), exponent = s.substr(e + 2);
      if (precision == 0)
        mantissa += '.'; // numpy keeps the point: "1.e-05"
      exp_digits = std::max(exp_digits, exponent.size());
      out[i] = mantissa + "e" + s[e + 1] + exponent;
    }
    for (size_t i = 0; i < n; ++i) {
      if (!std::isfinite(data[i]))
        continue;
      std::string &s = out[i];
      size_t e = s.find('e');
      std::string exponent = s.substr(e + 2);
      s = s.substr(0, e + 2) + std::string(exp_digits - exponent.size(), '0') + exponent;
      pad_left = std::max(pad_left, s.find('.'));
    }
    for (size_t i = 0; i < n; ++i)
      if (std::isfinite(data[i]))
        out[i] = std::string(pad_left - out[i].find('.'), ' ') + out[i];
    pad_right = precision + 2 + exp_digits; // digits, 'e', sign, exponent
  } else {
    for (size_t i = 0; i < n; ++i) {
      if (!std::isfinite(data[i]))
        continue;
      std::string s = fmt::format("{:.{}f}", data[i], shortest_digits(data[i], false));
      if (s.find('.') == std::string::npos)
        s += '.'; // "5." as numpy trims to the point
      out[i] = s;
      pad_left = std::max(pad_left, s.find('.'));
      pad_right = std::max(pad_right, s.size() - s.find('.') - 1);
    }
    for (size_t i = 0; i < n; ++i) {
      if (!std::isfinite(data[i]))
        continue;
      std::string &s = out[i];
      size_t dot = s.find('.');
      s = std::string(pad_left - dot, ' ') + s + std::string(pad_right - (s.size() - dot - 1), ' ');
    }
  }
  if (!any_finite)
    pad_left = pad_right = 0;
  for (size_t i = 0; i < n; ++i) {
    if (std::isfinite(data[i]))
      continue;
    std::string s = std::isnan(data[i]) ? "nan" : data[i] > 0 ? "inf" : "-inf";
    size_t width = std::max(pad_left + pad_right + 1, s.size());
    out[i] = std::string(width - s.size(), ' ') + s;
  }
  return out;
}

std::vector<std::string> format_ints(const int32_t *data, size_t n) {
  size_t width = 0;
  std::vector<std::string> out(n);
  for (size_t i = 0; i < n; ++i)
    width = std::max(width, (out[i] = std::to_string(data[i])).size());
  for (std::string &s : out)
    s = std::string(width - s.size(), ' ') + s;
  return out;
}

// numpy's _formatArray over pre-formatted words (row-major), separator ' '.
std::string format_array(const std::vector<std::string> &words, const std::vector<int64_t> &shape) {
  if (shape.empty())
    return words.empty() ? "" : words[0];
  std::function<std::string(size_t, size_t, const std::string &, size_t)> recurse =
      [&](size_t axis, size_t first, const std::string &indent, size_t width) -> std::string {
    const size_t len = size_t(shape[axis]);
    size_t stride = 1;
    for (size_t a = axis + 1; a < shape.size(); ++a)
      stride *= size_t(shape[a]);
    const std::string next_indent = indent + " ";
    std::string s;
    if (axis + 1 == shape.size()) {
      const size_t elem_width = width - 1; // room for ']'
      std::string line = indent;
      for (size_t i = 0; i < len; ++i) {
        const std::string &word = words[first + i];
        // numpy wraps only when a new line would help.
        if (line.size() + word.size() > elem_width && line.size() > indent.size()) {
          while (!line.empty() && line.back() == ' ')
            line.pop_back();
          s += line + "\n";
          line = indent;
        }
        line += word;
        if (i + 1 < len)
          line += " ";
      }
      s += line;
    } else {
      const std::string line_sep(shape.size() - axis - 1, '\n');
      for (size_t i = 0; i < len; ++i) {
        s += indent + recurse(axis + 1, first + i * stride, next_indent, width - 1);
        if (i + 1 < len)
          s += line_sep;
      }
    }
    return "[" + s.substr(indent.size()) + "]";
  };
  return recurse(0, 0, " ", kLineWidth);
}

size_t count(const std::vector<int64_t> &shape) {
  size_t n = 1;
  for (int64_t d : shape)
    n *= size_t(d);
  return n;
}

} // namespace

std::string numpy_array(const float *data, const std::vector<int64_t> &shape) {
  return format_array(format_floats(data, count(shape)), shape);
}

std::string numpy_array(const int32_t *data, const std::vector<int64_t> &shape) {
  return format_array(format_ints(data, count(shape)), shape);
}

} // namespace kiln
