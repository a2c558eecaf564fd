#include "sched/sim/chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <string_view>
#include <utility>

namespace corral::sim {
namespace {

constexpr const char* kPalette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#7f7f7f"};
constexpr size_t kPaletteSize = std::size(kPalette);

double UtilOf(const Sample& s) {
  return std::isfinite(s.utilization) ? std::clamp(s.utilization, 0.0, 1.0) : 0.0;
}
double QueuedOf(const Sample& s) {
  return s.queued > 0 ? static_cast<double>(s.queued) : 0.0;
}

// At most one decimal, no trailing ".0", never "nan", "inf" or "-0".
std::string Num(double v) {
  if (!std::isfinite(v)) v = 0;
  v = std::clamp(v, -1e12, 1e12);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  std::string out = buf;
  if (out.size() > 2 && out.compare(out.size() - 2, 2, ".0") == 0) out.resize(out.size() - 2);
  if (out == "-0") out = "0";
  return out;
}

std::string Escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const char* e = c == '&'    ? "&amp;"
                    : c == '<'  ? "&lt;"
                    : c == '>'  ? "&gt;"
                    : c == '"'  ? "&quot;"
                    : c == '\'' ? "&apos;"
                                : nullptr;
    if (e) {
      out += e;
    } else if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n') {
      out += c;
    }
  }
  return out;
}

int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

using Tick = std::pair<double, std::string>;  // the time and its label

// Ticks over [t0, t1] at a round step in a unit chosen by the span, at most `max_ticks` of them.
std::vector<Tick> TimeTicks(int64_t t0, int64_t t1, int max_ticks) {
  const double span = std::max(1.0, static_cast<double>(t1) - static_cast<double>(t0));
  struct Unit {
    int64_t s;
    const char* name;
    std::vector<int64_t> steps;
  };
  static const Unit kUnits[] = {{1, "s", {1, 2, 5, 10, 20, 30, 60}},
                                {60, "min", {1, 2, 5, 10, 20, 30, 60}},
                                {3600, "h", {1, 2, 3, 6, 12, 24, 48}},
                                {86400, "d", {1, 2, 5, 7, 14, 30, 60, 90, 180, 365}}};
  const Unit& u = kUnits[(span >= 180) + (span >= 3 * 3600) + (span >= 3 * 86400)];
  double step = 0;
  for (int64_t k : u.steps) {
    step = static_cast<double>(k * u.s);
    if (span / step <= max_ticks - 1) break;
  }
  while (span / step > max_ticks - 1) step *= 2;
  std::vector<Tick> ticks;
  for (double v = std::ceil(static_cast<double>(t0) / step) * step;
       v <= static_cast<double>(t1) && ticks.size() < 64; v += step) {
    ticks.emplace_back(v, v == 0 ? "0" : Num(v / static_cast<double>(u.s)) + " " + u.name);
  }
  return ticks;
}

// A round step (1, 2 or 5 times a power of ten) cutting [0, max] in at most `n` parts.
double NiceStep(double max, int n) {
  double step = 1;
  while (max / step > n) {
    if (max / (step * 2) <= n) return step * 2;
    if (max / (step * 5) <= n) return step * 5;
    step *= 10;
  }
  return step;
}

// Where the panels and the time axis lie.
struct Frame {
  double t0 = 0, span = 1;  // time at the left edge, time across the plot
  double x0 = 0, w = 1;     // the plot's left edge and width in pixels
};

struct Panel {
  double top = 0, h = 1, max = 1;  // pixel top, pixel height, the value at the top
  double Y(double v) const { return top + h - std::clamp(v / max, 0.0, 1.0) * h; }
};

// The points of one step line: per pixel column the samples with the column's min and max value
// in their order, plus the column's last sample when the next column has none; a hold point
// (the previous value at the next point's x) before a column that follows a gap.
std::string StepPoints(const std::vector<Sample>& s, double (*val)(const Sample&), const Frame& f,
                       const Panel& p) {
  const int ncols = std::max(1, static_cast<int>(f.w));
  struct Col {
    size_t lo = 0, hi = 0, last = 0;
    bool any = false;
  };
  std::vector<Col> cols(static_cast<size_t>(ncols));
  auto x_of = [&](const Sample& x) {
    return f.x0 + (static_cast<double>(x.t_s) - f.t0) / f.span * f.w;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    double pos = (static_cast<double>(s[i].t_s) - f.t0) / f.span * ncols;
    Col& c = cols[static_cast<size_t>(std::clamp(static_cast<int>(pos), 0, ncols - 1))];
    if (!c.any) {
      c = {i, i, i, true};
      continue;
    }
    if (val(s[i]) < val(s[c.lo])) c.lo = i;
    if (val(s[i]) > val(s[c.hi])) c.hi = i;
    c.last = i;
  }
  // Points on the 0.1 px grid; a point continuing a level (or a vertical run without passing
  // its end) moves the last point instead of adding one.
  std::vector<std::pair<double, double>> pts;
  int prev_col = -1;
  auto emit = [&](double x, double y) {
    x = std::round(x * 10) / 10;
    y = std::round(y * 10) / 10;
    if (!pts.empty() && pts.back() == std::pair(x, y)) return;
    if (pts.size() >= 2) {
      auto& [bx, by] = pts.back();
      const auto& [ax, ay] = pts[pts.size() - 2];
      if (ay == by && by == y) {
        bx = x;
        return;
      }
      if (ax == bx && bx == x && (by - ay) * (y - by) > 0) {
        by = y;
        return;
      }
    }
    pts.emplace_back(x, y);
  };
  for (int c = 0; c < ncols; ++c) {
    const Col& col = cols[static_cast<size_t>(c)];
    if (!col.any) continue;
    size_t kept[3] = {std::min(col.lo, col.hi), std::max(col.lo, col.hi), col.last};
    bool next_empty = c + 1 >= ncols || !cols[static_cast<size_t>(c) + 1].any;
    if (prev_col >= 0 && c > prev_col + 1) emit(x_of(s[kept[0]]), pts.back().second);
    for (int k = 0; k < (next_empty ? 3 : 2); ++k) {
      if (k > 0 && kept[k] == kept[k - 1]) continue;
      emit(x_of(s[kept[k]]), p.Y(val(s[kept[k]])));
    }
    prev_col = c;
  }
  if (pts.size() == 1) pts.emplace_back(pts[0].first + 2, pts[0].second);  // a lone point: a dash
  std::string out;
  for (const auto& [x, y] : pts) out += (out.empty() ? "" : " ") + Num(x) + "," + Num(y);
  return out;
}

void Text(std::string* o, double x, double y, const std::string& text, const char* extra = "") {
  *o += "<text x=\"" + Num(x) + "\" y=\"" + Num(y) + "\"" + extra + ">" + text + "</text>\n";
}

void Line(std::string* o, double x1, double y1, double x2, double y2, const char* stroke) {
  *o += "<line x1=\"" + Num(x1) + "\" y1=\"" + Num(y1) + "\" x2=\"" + Num(x2) + "\" y2=\"" +
        Num(y2) + "\" stroke=\"" + stroke + "\"/>\n";
}

}  // namespace

std::string RenderChart(const std::vector<Series>& series, const ChartOptions& opts) {
  const double W = std::clamp(opts.width, 240, 8192), H = std::clamp(opts.height, 240, 8192);
  std::string o = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + Num(W) + "\" height=\"" +
                  Num(H) + "\" viewBox=\"0 0 " + Num(W) + " " + Num(H) +
                  "\" font-family=\"sans-serif\" font-size=\"12\" fill=\"#222\">\n";
  const std::string title = Escape(opts.title);
  o += "<title>" + (title.empty() ? std::string("corral sim") : title) + "</title>\n";
  o += "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n";
  double top = 10;
  if (!title.empty()) {
    Text(&o, W / 2, 24, title, " text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\"");
    top = 34;
  }
  // Sorted copies only where a series is out of order.
  std::vector<std::vector<Sample>> sorted(series.size());
  std::vector<const std::vector<Sample>*> data(series.size());
  bool any = false;
  int64_t t0 = 0, t1 = 0;
  double qmax = 0;
  for (size_t i = 0; i < series.size(); ++i) {
    data[i] = &series[i].samples;
    auto by_t = [](const Sample& a, const Sample& b) { return a.t_s < b.t_s; };
    if (!std::is_sorted(data[i]->begin(), data[i]->end(), by_t)) {
      sorted[i] = *data[i];
      std::stable_sort(sorted[i].begin(), sorted[i].end(), by_t);
      data[i] = &sorted[i];
    }
    if (data[i]->empty()) continue;
    t0 = any ? std::min(t0, data[i]->front().t_s) : data[i]->front().t_s;
    t1 = any ? std::max(t1, data[i]->back().t_s) : data[i]->back().t_s;
    any = true;
    for (const Sample& s : *data[i]) qmax = std::max(qmax, QueuedOf(s));
  }
  if (!any) {
    Text(&o, W / 2, H / 2, "no data", " text-anchor=\"middle\" font-size=\"16\"");
    return o + "</svg>\n";
  }
  // The legend: rows of a swatch and a name, wrapped at the width.
  const double ml = 64, mr = 16;
  double lx = ml, ly = top + 12;
  for (size_t i = 0; i < series.size(); ++i) {
    std::string name = Escape(series[i].name) + (data[i]->empty() ? " (no data)" : "");
    double w = 22 + 7.0 * static_cast<double>(series[i].name.size() + 10 * data[i]->empty()) + 14;
    if (lx > ml && lx + w > W - mr) {
      lx = ml;
      ly += 18;
    }
    o += "<rect x=\"" + Num(lx) + "\" y=\"" + Num(ly - 6) + "\" width=\"16\" height=\"4\" fill=\"" +
         kPalette[i % kPaletteSize] + "\"/>\n";
    Text(&o, lx + 22, ly, name);
    lx += w;
  }
  top = ly + 10;
  // Two panels, each under its label, above the time axis's labels and caption.
  const double gap = 24, bottom = 40;
  const double ph = std::max(20.0, (H - top - 18 - gap - bottom) / 2);
  const Frame f{static_cast<double>(t0),
                std::max(1.0, static_cast<double>(t1) - static_cast<double>(t0)), ml, W - ml - mr};
  Panel util{top + 18, ph, 1.0};
  const double qstep = NiceStep(std::max(qmax, 1.0), 4);
  Panel queue{util.top + ph + gap, ph, std::ceil(std::max(qmax, 1.0) / qstep) * qstep};
  Text(&o, ml, util.top - 6, "Utilisation (%)", " font-weight=\"bold\"");
  Text(&o, ml, queue.top - 6, "Jobs queued", " font-weight=\"bold\"");
  for (double v = 0; v <= 1.0001; v += 0.25) {
    Line(&o, ml, util.Y(v), ml + f.w, util.Y(v), "#e4e4e4");
    Text(&o, ml - 6, util.Y(v) + 4, Num(v * 100), " text-anchor=\"end\"");
  }
  for (double v = 0; v <= queue.max + qstep / 2; v += qstep) {
    Line(&o, ml, queue.Y(v), ml + f.w, queue.Y(v), "#e4e4e4");
    Text(&o, ml - 6, queue.Y(v) + 4, Num(v), " text-anchor=\"end\"");
  }
  const double axis_y = queue.top + ph;
  for (const Tick& t : TimeTicks(t0, t1, std::clamp(static_cast<int>(f.w / 90), 2, 12))) {
    double x = f.x0 + (t.first - f.t0) / f.span * f.w;
    Line(&o, x, util.top, x, util.top + ph, "#e4e4e4");
    Line(&o, x, queue.top, x, axis_y + 4, "#e4e4e4");
    Text(&o, x, axis_y + 16, t.second, " text-anchor=\"middle\"");
  }
  for (const Panel* p : {&util, &queue}) {
    o += "<rect x=\"" + Num(ml) + "\" y=\"" + Num(p->top) + "\" width=\"" + Num(f.w) +
         "\" height=\"" + Num(ph) + "\" fill=\"none\" stroke=\"#444\"/>\n";
  }
  Text(&o, ml + f.w / 2, axis_y + 34, "simulated time", " text-anchor=\"middle\"");
  // The lines, one per series and panel.
  for (size_t i = 0; i < series.size(); ++i) {
    if (data[i]->empty()) continue;
    const std::string attrs = std::string("\" fill=\"none\" stroke=\"") +
                              kPalette[i % kPaletteSize] +
                              "\" stroke-width=\"1.5\" stroke-linejoin=\"round\"/>\n";
    o += "<g class=\"series\">\n<polyline class=\"util\" points=\"" +
         StepPoints(*data[i], UtilOf, f, util) + attrs;
    o += "<polyline class=\"queue\" points=\"" + StepPoints(*data[i], QueuedOf, f, queue) + attrs +
         "</g>\n";
  }
  return o + "</svg>\n";
}

std::vector<Sample> Thin(const std::vector<Sample>& s, size_t max_points) {
  max_points = std::max<size_t>(max_points, 6);
  if (s.size() <= max_points) return s;
  const size_t n = s.size(), nb = (max_points - 2) / 4;
  const double t0 = static_cast<double>(s.front().t_s);
  const double span = static_cast<double>(s.back().t_s) - t0;
  struct Bucket {
    size_t umin = 0, umax = 0, qmin = 0, qmax = 0;
    bool any = false;
  };
  std::vector<Bucket> b(nb);
  for (size_t i = 1; i + 1 < n; ++i) {
    size_t k = (i * nb) / n;  // by index where time gives no order
    if (span > 0) {
      double pos = (static_cast<double>(s[i].t_s) - t0) / span * static_cast<double>(nb);
      k = static_cast<size_t>(std::clamp(pos, 0.0, static_cast<double>(nb - 1)));
    }
    Bucket& x = b[k];
    if (!x.any) {
      x = {i, i, i, i, true};
      continue;
    }
    if (UtilOf(s[i]) < UtilOf(s[x.umin])) x.umin = i;
    if (UtilOf(s[i]) > UtilOf(s[x.umax])) x.umax = i;
    if (QueuedOf(s[i]) < QueuedOf(s[x.qmin])) x.qmin = i;
    if (QueuedOf(s[i]) > QueuedOf(s[x.qmax])) x.qmax = i;
  }
  std::vector<char> keep(n, 0);
  keep[0] = keep[n - 1] = 1;
  for (const Bucket& x : b) {
    if (x.any) keep[x.umin] = keep[x.umax] = keep[x.qmin] = keep[x.qmax] = 1;
  }
  std::vector<Sample> out;
  for (size_t i = 0; i < n; ++i) {
    if (keep[i]) out.push_back(s[i]);
  }
  return out;
}

void SeriesRecorder::Add(int64_t t_s, double util, int64_t queued) {
  Sample s{any_ ? std::max(t_s, prev_.t_s) : t_s, util, std::max<int64_t>(queued, 0)};
  s.utilization = UtilOf(s);
  if (any_ && s.utilization == prev_.utilization && s.queued == prev_.queued) return;
  any_ = true;
  prev_ = s;
  if (resolution_s_ <= 0) {
    Emit(s);
    return;
  }
  int64_t k = FloorDiv(s.t_s, resolution_s_);
  if (open_ && k != interval_) Close();
  if (!open_) {
    open_ = true;
    interval_ = k;
    first_t_ = s.t_s;
    peak_util_ = s.utilization;
    peak_queued_ = s.queued;
  }
  last_ = s;
  peak_util_ = std::max(peak_util_, s.utilization);
  peak_queued_ = std::max(peak_queued_, s.queued);
}

std::vector<Sample> SeriesRecorder::Take() {
  if (open_) Close();
  std::vector<Sample> out = std::move(out_);
  *this = SeriesRecorder(resolution_s_);
  return out;
}

void SeriesRecorder::Close() {
  if (peak_util_ != last_.utilization || peak_queued_ != last_.queued) {
    Emit({first_t_, peak_util_, peak_queued_});
  }
  Emit(last_);
  open_ = false;
}

void SeriesRecorder::Emit(const Sample& s) {
  if (!out_.empty() && out_.back().utilization == s.utilization && out_.back().queued == s.queued) {
    return;
  }
  out_.push_back(s);
}

}  // namespace corral::sim
