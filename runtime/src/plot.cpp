// SVG picture of a fit with PLplot, isolated in a child process (contract in kiln/plot.h).
#include "kiln/plot.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <plplot/plplot.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>

#include "kiln/error.h"

namespace kiln {
namespace {

constexpr int kExitPlplotFatal = 3;  // PLplot called plexit()
constexpr int kExitPlplotAbort = 4;  // PLplot reported a non-fatal abort: the picture is incomplete

bool g_aborted = false;  // child process only

int on_plplot_exit(PLCHAR_VECTOR message) {
    // Leave without PLplot's cleanup or the parent's atexit handlers, which belong to the parent.
    std::fprintf(stderr, "%s\n", message);
    std::fflush(stderr);
    _exit(kExitPlplotFatal);
}

void on_plplot_abort(PLCHAR_VECTOR message) {
    std::fprintf(stderr, "%s\n", message);
    g_aborted = true;
}

// Range of the finite values, widened by 5% so no point sits on the frame.
std::pair<double, double> padded_range(const std::vector<float> &a, const std::vector<float> &b) {
    double lo = INFINITY, hi = -INFINITY;
    for (const auto *v : {&a, &b})
        for (float f : *v)
            if (std::isfinite(f)) lo = std::min(lo, double(f)), hi = std::max(hi, double(f));
    if (!(lo <= hi)) return {-1, 1};
    double pad = hi > lo ? 0.05 * (hi - lo) : 1.0;
    return {lo - pad, hi + pad};
}

// Runs in the child; returns its exit code.
int draw(const std::string &file, const FitPlot &p) {
    plsexit(on_plplot_exit);
    plsabort(on_plplot_abort);
    plsdev("svg");
    plsfnam(file.c_str());
    plscolbg(255, 255, 255);
    plinit();

    std::vector<float> none;
    auto [x0, x1] = padded_range(p.x, none);
    auto [y0, y1] = padded_range(p.y, p.fit);
    plscol0(1, 0, 0, 0);  // frame and labels in black on the white background
    plcol0(1);
    plenv(x0, x1, y0, y1, 0, 0);
    pllab("x", "y", p.title.c_str());

    std::vector<PLFLT> px(p.x.begin(), p.x.end()), py(p.y.begin(), p.y.end());
    plscol0(2, 31, 119, 180);
    plcol0(2);
    plpoin(PLINT(px.size()), px.data(), py.data(), 17);

    // The curve in x order, skipping points where the model produced NaN/inf.
    std::vector<size_t> order(std::min(p.x.size(), p.fit.size()));
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p.x[a] < p.x[b]; });
    std::vector<PLFLT> lx, ly;
    for (size_t i : order)
        if (std::isfinite(p.fit[i]) && std::isfinite(p.x[i])) lx.push_back(p.x[i]), ly.push_back(p.fit[i]);
    plscol0(3, 214, 39, 40);
    plcol0(3);
    plwidth(2.0);
    if (lx.size() >= 2) plline(PLINT(lx.size()), lx.data(), ly.data());
    plend();
    return g_aborted ? kExitPlplotAbort : 0;
}

std::string trim(std::string s) {
    while (!s.empty() && std::isspace((unsigned char)s.back())) s.pop_back();
    size_t start = s.find_first_not_of(" \t\n");
    return start == std::string::npos ? "" : s.substr(start);
}

}  // namespace

void plot_fit_svg(const std::string &path, const FitPlot &plot) {
    if (path.size() < 4 || path.compare(path.size() - 4, 4, ".svg") != 0)
        throw UserError(fmt::format("{}: pictures are written as SVG; use a name ending in .svg", path));

    std::string tmp = path + ".tmp.XXXXXX";
    int fd = ::mkstemp(tmp.data());
    if (fd < 0) throw UserError(fmt::format("{}: cannot create the picture: {}", path, std::strerror(errno)));
    ::close(fd);  // PLplot opens the file by name
    int err_pipe[2];
    if (::pipe(err_pipe) != 0) {
        ::unlink(tmp.c_str());
        throw UserError(fmt::format("{}: cannot draw the picture: {}", path, std::strerror(errno)));
    }
    // Unflushed output would otherwise be written twice, once by each process.
    std::fflush(stdout);
    std::fflush(stderr);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(err_pipe[0]);
        ::dup2(err_pipe[1], STDERR_FILENO);
        int devnull = ::open("/dev/null", O_WRONLY);
        if (devnull >= 0) ::dup2(devnull, STDOUT_FILENO);
        int rc = draw(tmp, plot);
        std::fflush(nullptr);
        _exit(rc);
    }
    ::close(err_pipe[1]);
    std::string messages;
    if (pid > 0) {
        char buf[4096];
        ssize_t n;
        while ((n = ::read(err_pipe[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
            if (n > 0) messages.append(buf, size_t(n));
    }
    ::close(err_pipe[0]);
    int status = 0;
    bool ok = pid > 0;
    if (ok) {
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    struct stat st {};
    ok = ok && ::stat(tmp.c_str(), &st) == 0 && st.st_size > 0;
    if (ok) {
        mode_t mask = ::umask(0);
        ::umask(mask);
        ::chmod(tmp.c_str(), 0666 & ~mask);
        ok = ::rename(tmp.c_str(), path.c_str()) == 0;
        if (!ok) messages = std::strerror(errno);
    }
    if (!ok) {
        ::unlink(tmp.c_str());
        std::string why = trim(messages);
        if (why.empty()) why = pid < 0 ? "fork failed" : fmt::format("PLplot failed (status {})", status);
        throw UserError(fmt::format("{}: cannot draw the picture: {}", path, why));
    }
}

FitTensors find_fit_tensors(const Manifest &m) {
    auto column = [](const TensorSpec *t) { return t && t->shape.size() == 2 && t->shape[1] == 1; };
    const TensorSpec *x = m.find("x"), *y = m.find("y");
    if (!column(x) || !column(y) || x->role != Role::Input || y->role != Role::Input || x->shape != y->shape)
        return {};
    for (const TensorSpec *out : m.with_role(Role::Output))
        if (out->shape == x->shape) return {x, y, out};
    return {};
}

}  // namespace kiln
