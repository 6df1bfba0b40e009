// Functions of known lengths for tools/function_lengths.py.
namespace outer {

struct Holder {
  int member(int x) {
    if (x > 0) {
      return x;
    }
    return -x;
  }
};

int withLambda(int n) {
  auto twice = [](int v) {
    return 2 * v;
  };
  const char *text = "{ not a brace }";
  // } nor this
  return twice(n) + text[0];
}

} // namespace outer

int Free::method() const { return 1; }
