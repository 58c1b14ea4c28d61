#include "report/progress.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "util/text_width.h"

namespace wp::report {
namespace {

constexpr const char* kReset = "\x1b[0m";
constexpr const char* kRed = "\x1b[31m";
constexpr const char* kGreen = "\x1b[32m";
constexpr const char* kYellow = "\x1b[33m";
constexpr const char* kCyan = "\x1b[36m";
constexpr const char* kDim = "\x1b[2m";

constexpr int kMinWidth = 12;     // below this, nothing is drawn
constexpr int kMinBar = 4;        // cells of a bar, or no bar
constexpr int kMaxBar = 20;       // a wider bar says nothing more
constexpr size_t kMinName = 4;    // columns of a job's name, or no time beside it
constexpr size_t kJobIndent = 2;  // running jobs are indented under the counts

// Control characters would move the cursor and break the area's geometry.
std::string printable(const std::string& text) {
  std::string out = text;
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = '?';
  }
  return out;
}

using wp::text::display_width;

std::string prefix_columns(const std::string& text, size_t columns) {
  return std::string(wp::text::prefix_columns(text, columns));
}

// A line as pieces of text, some coloured; its width is that of the text.
class Line {
 public:
  explicit Line(bool color) : color_(color) {}

  Line& add(std::string text, const char* color = nullptr) {
    width_ += display_width(text);
    pieces_.push_back({std::move(text), color});
    return *this;
  }
  size_t width() const { return width_; }

  // Cut to `columns`, ending in `ellipsis` when something was cut.
  void fit(size_t columns, const std::string& ellipsis) {
    if (width_ <= columns) return;
    size_t room = columns > display_width(ellipsis) ? columns - display_width(ellipsis) : 0;
    std::vector<Piece> kept;
    size_t used = 0;
    for (Piece& piece : pieces_) {
      size_t w = display_width(piece.text);
      if (used + w > room) {
        kept.push_back({prefix_columns(piece.text, room - used), piece.color});
        break;
      }
      used += w;
      kept.push_back(std::move(piece));
    }
    kept.push_back({prefix_columns(ellipsis, columns), nullptr});
    pieces_ = std::move(kept);
    width_ = 0;
    for (const Piece& piece : pieces_)
      width_ += display_width(piece.text);
  }

  std::string text() const {
    std::string out;
    for (const Piece& piece : pieces_) {
      bool colored = color_ && piece.color != nullptr && !piece.text.empty();
      if (colored) out += piece.color;
      out += piece.text;
      if (colored) out += kReset;
    }
    return out;
  }

 private:
  struct Piece {
    std::string text;
    const char* color;
  };
  bool color_;
  std::vector<Piece> pieces_;
  size_t width_ = 0;
};

std::string ellipsis(const ProgressStyle& style) {
  return style.unicode ? "\u2026" : "...";
}

// The counts, then what fits of the ETA and the run's elapsed time.
Line header(const ProgressSnapshot& s, const ProgressStyle& style, size_t columns) {
  auto build = [&](bool with_elapsed, bool with_eta) {
    Line line(style.color);
    if (with_elapsed) line.add(fmt::format("[{}] ", clock_text(s.elapsed)), kDim);
    line.add(fmt::format("{} done, {} running, {} queued, ", s.done, s.running, s.queued));
    line.add(fmt::format("{} failed", s.failed), s.failed > 0 ? kRed : nullptr);
    if (s.skipped > 0) line.add(fmt::format(", {} skipped", s.skipped), kYellow);
    if (with_eta && s.eta) line.add(fmt::format("  ETA {}", clock_text(*s.eta)), kGreen);
    return line;
  };
  for (auto [with_elapsed, with_eta] : {std::pair{true, true}, {false, true}, {false, false}}) {
    Line line = build(with_elapsed, with_eta);
    if (line.width() <= columns) return line;
  }
  Line line = build(false, false);
  line.fit(columns, ellipsis(style));
  return line;
}

struct Gauge {
  std::string label;
  std::string figure;  // "3/4", "1 GiB/8 GiB"
  double fraction = 0;
  bool used = false;  // anything in use
  bool full = false;  // all of it in use
  bool bar = true;    // capacity has a figure
};

std::string number(double value) {
  return fmt::format("{:g}", std::round(value * 10) / 10);
}

Gauge gauge(std::string label, double used, double capacity, std::string figure) {
  Gauge g{std::move(label), std::move(figure)};
  g.used = used > 0;
  g.full = used >= capacity;
  g.fraction = capacity > 0 ? std::clamp(used / capacity, 0.0, 1.0) : 0.0;
  return g;
}

std::vector<Gauge> gauges(const ProgressSnapshot& s) {
  std::vector<Gauge> out;
  const Resources& use = s.in_use;
  const Resources& cap = s.capacity;
  out.push_back(gauge("cpu", use.cpu.as_double(), cap.cpu.as_double(),
                      number(use.cpu.as_double()) + "/" + number(cap.cpu.as_double())));
  out.push_back(gauge("mem", static_cast<double>(use.memory), static_cast<double>(cap.memory),
                      format_bytes(use.memory) + "/" + format_bytes(cap.memory)));
  if (cap.iops != Resources::kUnlimited && cap.iops > 0) {
    out.push_back(gauge("iops", static_cast<double>(use.iops), static_cast<double>(cap.iops),
                        fmt::format("{}/{}", use.iops, cap.iops)));
  } else if (use.iops > 0) {
    // Nothing to measure it against: the figure alone.
    Gauge g{"iops", std::to_string(use.iops)};
    g.bar = false;
    out.push_back(g);
  }
  if (cap.gpu > 0) {
    out.push_back(gauge("gpu", use.gpu, cap.gpu, fmt::format("{}/{}", use.gpu, cap.gpu)));
  }
  return out;
}

// Cells of a bar `width` wide that are filled, in eighths of a cell. Never
// empty while something is in use, never full until all of it is: a bar
// must not hide a job, nor claim the machine is full when it is not.
int filled_eighths(const Gauge& g, int width) {
  int total = width * 8;
  int eighths = static_cast<int>(std::lround(g.fraction * total));
  if (g.used) eighths = std::max(eighths, 1);
  if (!g.full) eighths = std::min(eighths, total - 1);
  return g.full ? total : eighths;
}

std::string bar_cells(const Gauge& g, int width, bool unicode) {
  int eighths = filled_eighths(g, width);
  if (!unicode) {
    // Whole cells only: a partial cell counts as filled, so the rules above hold.
    int cells = (eighths + 7) / 8;
    if (!g.full) cells = std::min(cells, width - 1);
    return std::string(static_cast<size_t>(cells), '#') +
           std::string(static_cast<size_t>(width - cells), '-');
  }
  static const char* const kPartial[] = {"",       "\u258f", "\u258e", "\u258d",
                                         "\u258c", "\u258b", "\u258a", "\u2589"};
  std::string out;
  int full_cells = eighths / 8;
  for (int i = 0; i < full_cells; ++i)
    out += "\u2588";
  int cells = full_cells;
  if (eighths % 8 != 0) {
    out += kPartial[eighths % 8];
    ++cells;
  }
  out += std::string(static_cast<size_t>(width - cells), ' ');
  return out;
}

// "cpu [###-] 3/4  mem [#---] 1 GiB/8 GiB": bars as wide as the line allows,
// or the figures alone when it does not.
Line bars(const ProgressSnapshot& s, const ProgressStyle& style, size_t columns) {
  std::vector<Gauge> all = gauges(s);
  size_t fixed = 0;
  int with_bar = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    fixed += (i > 0 ? 2 : 0) + all[i].label.size() + 1 + all[i].figure.size();
    if (all[i].bar) {
      fixed += 3;  // the brackets and a space
      ++with_bar;
    }
  }
  int width = 0;
  if (with_bar > 0 && columns > fixed) {
    width = std::min(kMaxBar, static_cast<int>((columns - fixed) / static_cast<size_t>(with_bar)));
  }
  bool draw_bars = width >= kMinBar;
  Line line(style.color);
  for (size_t i = 0; i < all.size(); ++i) {
    const Gauge& g = all[i];
    line.add((i > 0 ? "  " : "") + g.label + " ");
    if (draw_bars && g.bar) {
      line.add("[");
      line.add(bar_cells(g, width, style.unicode), kCyan);
      line.add("] ");
    }
    line.add(g.figure);
  }
  line.fit(columns, ellipsis(style));
  return line;
}

std::string job_times(const ProgressJob& job) {
  std::string text = clock_text(job.elapsed);
  if (job.predicted) text += " / ~" + clock_text(*job.predicted);
  if (job.paused) text += " paused";
  return text;
}

// "  name ......... 12s / ~40s": the time at the right edge.
Line job_line(const ProgressJob& job, const ProgressStyle& style, size_t columns) {
  Line line(style.color);
  std::string name = printable(job.name);
  std::string times = job_times(job);
  bool late = job.predicted && job.elapsed > *job.predicted;
  size_t room = columns > kJobIndent ? columns - kJobIndent : 0;
  if (room < kMinName + 1 + times.size()) {
    line.add(std::string(kJobIndent, ' ') + name);
    line.fit(columns, ellipsis(style));
    return line;
  }
  size_t name_room = room - 1 - times.size();
  Line shown(false);
  shown.add(name);
  shown.fit(name_room, ellipsis(style));
  std::string name_text = shown.text();
  size_t gap = room - display_width(name_text) - times.size();
  line.add(std::string(kJobIndent, ' ') + name_text + std::string(gap, ' '));
  line.add(times, job.paused || late ? kYellow : kDim);
  return line;
}

void add_jobs(std::vector<std::string>& lines, const ProgressSnapshot& s,
              const ProgressStyle& style, size_t columns, size_t rows) {
  if (rows == 0 || s.jobs.empty()) return;
  size_t shown = s.jobs.size() <= rows ? s.jobs.size() : rows - 1;
  for (size_t i = 0; i < shown; ++i)
    lines.push_back(job_line(s.jobs[i], style, columns).text());
  if (shown < s.jobs.size()) {
    Line more(style.color);
    more.add(fmt::format("{}+{} more", std::string(kJobIndent, ' '), s.jobs.size() - shown), kDim);
    more.fit(columns, ellipsis(style));
    lines.push_back(more.text());
  }
}

}  // namespace

std::string clock_text(double seconds) {
  seconds = std::max(0.0, seconds);
  // Tenths while short: a job predicted at 0.6 s is not "~0s".
  if (seconds < 10) return fmt::format("{:.1f}s", std::floor(seconds * 10) / 10);
  auto total = static_cast<long long>(std::floor(seconds));
  if (total < 60) return fmt::format("{}s", total);
  if (total < 3600) return fmt::format("{}m{:02}s", total / 60, total % 60);
  return fmt::format("{}h{:02}m", total / 3600, (total % 3600) / 60);
}

std::vector<std::string> render_progress(const ProgressSnapshot& snapshot,
                                         const ProgressStyle& style) {
  std::vector<std::string> lines;
  // Never more than half the screen: the jobs' output scrolls above it.
  int rows = style.height / 2;
  if (style.width < kMinWidth || rows < 1) return lines;
  auto columns = static_cast<size_t>(style.width - 1);
  lines.push_back(header(snapshot, style, columns).text());
  if (rows < 2) return lines;
  lines.push_back(bars(snapshot, style, columns).text());
  add_jobs(lines, snapshot, style, columns, static_cast<size_t>(rows - 2));
  return lines;
}

}  // namespace wp::report
