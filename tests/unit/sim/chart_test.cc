// The SVG chart of a replay: its frame, lines, legend, escaping, tick labels, thinning, clamping
// and the empty case, checked for well-formed XML; and SeriesRecorder's exact semantics.
#include "sched/sim/chart.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace corral::sim {
namespace {

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

// A tiny XML checker: tags nest and close, attribute values are quoted without '<', and text
// holds '&' only in the five predefined entities. Returns "" when well-formed, else what failed.
std::string XmlError(const std::string& x) {
  std::vector<std::string> open;
  size_t i = 0;
  auto entity_ok = [&](size_t at) {
    for (const char* e : {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"}) {
      if (x.compare(at, std::string(e).size(), e) == 0) return true;
    }
    return false;
  };
  while (i < x.size()) {
    if (x[i] == '&' && !entity_ok(i)) return "bad entity at " + std::to_string(i);
    if (x[i] == '>') return "stray '>' at " + std::to_string(i);
    if (x[i] != '<') {
      ++i;
      continue;
    }
    size_t j = i + 1;
    bool closing = j < x.size() && x[j] == '/';
    if (closing) ++j;
    size_t name_start = j;
    while (j < x.size() && (std::isalnum(static_cast<unsigned char>(x[j])) || x[j] == '-')) ++j;
    std::string name = x.substr(name_start, j - name_start);
    if (name.empty()) return "tag without a name at " + std::to_string(i);
    char quote = 0;
    for (; j < x.size(); ++j) {
      char c = x[j];
      if (quote) {
        if (c == quote) quote = 0;
        if (c == '<') return "'<' in an attribute at " + std::to_string(j);
        if (c == '&' && !entity_ok(j)) return "bad entity in an attribute at " + std::to_string(j);
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '>' || c == '<') {
        break;
      }
    }
    if (j >= x.size() || x[j] != '>') return "unterminated tag <" + name;
    bool self_closing = x[j - 1] == '/';
    if (closing) {
      if (open.empty() || open.back() != name) return "unexpected </" + name + ">";
      open.pop_back();
    } else if (!self_closing) {
      open.push_back(name);
    }
    i = j + 1;
    if (open.empty() && i < x.size() && x.substr(i) != "\n") return "text after the root";
  }
  if (!open.empty()) return "unclosed <" + open.back() + ">";
  return "";
}

TEST(XmlChecker, CatchesMistakes) {
  EXPECT_EQ(XmlError("<svg a=\"1\"><g><line/></g><text>a &amp; b</text></svg>\n"), "");
  EXPECT_NE(XmlError("<svg><g></svg>"), "");
  EXPECT_NE(XmlError("<svg><text>a < b</text></svg>"), "");
  EXPECT_NE(XmlError("<svg><text>a & b</text></svg>"), "");
  EXPECT_NE(XmlError("<svg a=\"<\"></svg>"), "");
  EXPECT_NE(XmlError("<svg>"), "");
  EXPECT_NE(XmlError("<svg></svg><svg></svg>"), "");
}

void ExpectFrame(const std::string& svg) {
  EXPECT_EQ(svg.rfind("<svg", 0), 0u) << svg.substr(0, 40);
  ASSERT_GE(svg.size(), 7u);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  EXPECT_EQ(XmlError(svg), "");
}

// The points of each polyline with the given class, in order.
std::vector<std::vector<std::pair<double, double>>> Lines(const std::string& svg,
                                                          const std::string& cls) {
  std::vector<std::vector<std::pair<double, double>>> out;
  const std::string key = "<polyline class=\"" + cls + "\" points=\"";
  for (size_t at = svg.find(key); at != std::string::npos; at = svg.find(key, at + 1)) {
    size_t from = at + key.size(), to = svg.find('"', from);
    std::string pts = svg.substr(from, to - from);
    std::vector<std::pair<double, double>> line;
    const char* p = pts.c_str();
    while (*p) {
      char* end = nullptr;
      double x = std::strtod(p, &end);
      if (*end != ',') {
        ADD_FAILURE() << "bad point list: " << pts.substr(0, 80);
        break;
      }
      double y = std::strtod(end + 1, &end);
      line.emplace_back(x, y);
      p = end;
      while (*p == ' ') ++p;
    }
    out.push_back(std::move(line));
  }
  return out;
}

std::vector<Sample> Ramp(int64_t n, int64_t step_s) {
  std::vector<Sample> s;
  for (int64_t i = 0; i < n; ++i) {
    s.push_back({i * step_s, static_cast<double>(i % 10) / 10, i % 7});
  }
  return s;
}

TEST(Chart, FrameLinesAndLegend) {
  std::vector<Series> in = {{"easy", Ramp(50, 60)}, {"fcfs", {}}, {"conservative", Ramp(30, 90)}};
  ChartOptions opts;
  opts.title = "SDSC SP2";
  std::string svg = RenderChart(in, opts);
  ExpectFrame(svg);
  // One polyline per panel for each series with samples, grouped per series.
  EXPECT_EQ(Count(svg, "<g class=\"series\">"), 2u);
  EXPECT_EQ(Count(svg, "<polyline"), 4u);
  EXPECT_EQ(Lines(svg, "util").size(), 2u);
  EXPECT_EQ(Lines(svg, "queue").size(), 2u);
  EXPECT_NE(svg.find(">easy<"), std::string::npos);
  EXPECT_NE(svg.find(">fcfs (no data)<"), std::string::npos);
  EXPECT_NE(svg.find(">conservative<"), std::string::npos);
  EXPECT_NE(svg.find("<title>SDSC SP2</title>"), std::string::npos);
  EXPECT_NE(svg.find(">Utilisation (%)<"), std::string::npos);
  EXPECT_NE(svg.find(">Jobs queued<"), std::string::npos);
  EXPECT_NE(svg.find("width=\"960\" height=\"540\""), std::string::npos);
}

TEST(Chart, DistinctColours) {
  std::vector<Series> in;
  for (int i = 0; i < 10; ++i) in.push_back({"p" + std::to_string(i), Ramp(5, 10)});
  std::string svg = RenderChart(in, {});
  ExpectFrame(svg);
  std::set<std::string> colours;
  const std::string key = "<polyline class=\"util\"";
  for (size_t at = svg.find(key); at != std::string::npos; at = svg.find(key, at + 1)) {
    size_t s = svg.find("stroke=\"", at) + 8;
    colours.insert(svg.substr(s, svg.find('"', s) - s));
  }
  EXPECT_EQ(colours.size(), 10u);
}

TEST(Chart, EscapesNamesAndTitle) {
  std::vector<Series> in = {{"<script>alert(\"x\")&'</script>", Ramp(3, 1)}};
  ChartOptions opts;
  opts.title = "a < b & \"c\"\x01";
  std::string svg = RenderChart(in, opts);
  ExpectFrame(svg);
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  EXPECT_NE(svg.find("&lt;script&gt;alert(&quot;x&quot;)&amp;&apos;&lt;/script&gt;"),
            std::string::npos);
  EXPECT_NE(svg.find("<title>a &lt; b &amp; &quot;c&quot;</title>"), std::string::npos);
}

// The text of every <text> element.
std::vector<std::string> Texts(const std::string& svg) {
  std::vector<std::string> out;
  for (size_t at = svg.find("<text"); at != std::string::npos; at = svg.find("<text", at + 1)) {
    size_t from = svg.find('>', at) + 1;
    out.push_back(svg.substr(from, svg.find("</text>", from) - from));
  }
  return out;
}

bool HasText(const std::string& svg, const std::string& t) {
  for (const std::string& x : Texts(svg)) {
    if (x == t) return true;
  }
  return false;
}

TEST(Chart, TimeTickLabelsFollowTheSpan) {
  auto chart = [](int64_t span_s) {
    return RenderChart({{"easy", {{0, 0.5, 1}, {span_s, 0.7, 2}}}}, {});
  };
  std::string two_days = chart(2 * 86400);
  ExpectFrame(two_days);
  EXPECT_TRUE(HasText(two_days, "0"));
  EXPECT_TRUE(HasText(two_days, "12 h") || HasText(two_days, "1 d")) << two_days;
  EXPECT_TRUE(HasText(two_days, "48 h") || HasText(two_days, "2 d"));
  size_t time_labels = 0;
  for (const std::string& t : Texts(two_days)) {
    if (t.size() > 2 && (t.ends_with(" h") || t.ends_with(" d"))) ++time_labels;
  }
  EXPECT_GE(time_labels, 3u);
  EXPECT_LE(time_labels, 12u);
  EXPECT_TRUE(HasText(chart(100), "20 s") || HasText(chart(100), "10 s"));
  EXPECT_TRUE(HasText(chart(90 * 60), "20 min"));
  EXPECT_TRUE(HasText(chart(30 * 86400), "5 d") || HasText(chart(30 * 86400), "7 d"));
  // Absolute simulated time: a window from 1 d to 3 d 2 h is labelled from 24 h on.
  std::string late = RenderChart({{"easy", {{86400, 0.5, 1}, {3 * 86400 + 7200, 0.7, 2}}}}, {});
  EXPECT_TRUE(HasText(late, "24 h"));
  EXPECT_TRUE(HasText(late, "72 h"));
  EXPECT_FALSE(HasText(late, "12 h"));
}

TEST(Chart, YTicks) {
  std::string svg = RenderChart({{"easy", {{0, 0.5, 0}, {100, 0.7, 37}}}}, {});
  for (const char* t : {"0", "25", "50", "75", "100", "10", "20", "30", "40"}) {
    EXPECT_TRUE(HasText(svg, t)) << t;
  }
}

TEST(Thin, ShortInputIsKept) {
  std::vector<Sample> s = Ramp(100, 1);
  std::vector<Sample> t = Thin(s, 100);
  ASSERT_EQ(t.size(), 100u);
  EXPECT_EQ(t[42].t_s, 42);
  EXPECT_EQ(Thin(s, 0).size(), 6u);  // at least first, last and one bucket
}

TEST(Thin, AMillionSamplesKeepTheirSpikes) {
  std::vector<Sample> s;
  s.reserve(1000000);
  for (int64_t i = 0; i < 1000000; ++i) s.push_back({i, 0.5, 10});
  s[777777] = {777777, 1.0, 5000};  // a spike
  s[333333] = {333333, 0.0, 0};     // a dip
  std::vector<Sample> t = Thin(s, 1000);
  EXPECT_LE(t.size(), 1000u);
  EXPECT_GE(t.size(), 2u);
  EXPECT_EQ(t.front().t_s, 0);
  EXPECT_EQ(t.back().t_s, 999999);
  bool spike = false, dip = false;
  for (size_t i = 0; i < t.size(); ++i) {
    if (i > 0) {
      EXPECT_LT(t[i - 1].t_s, t[i].t_s);
    }
    spike |= t[i].t_s == 777777 && t[i].queued == 5000 && t[i].utilization == 1.0;
    dip |= t[i].t_s == 333333 && t[i].queued == 0;
  }
  EXPECT_TRUE(spike);
  EXPECT_TRUE(dip);
}

TEST(Chart, LongSeriesAreThinnedPerPixel) {
  std::vector<Sample> s;
  s.reserve(1000000);
  for (int64_t i = 0; i < 1000000; ++i) s.push_back({i, 0.5, 10 + (i % 3)});
  s[500001] = {500001, 1.0, 5000};
  ChartOptions opts;
  std::string svg = RenderChart({{"easy", s}}, opts);
  ExpectFrame(svg);
  auto util = Lines(svg, "util"), queue = Lines(svg, "queue");
  ASSERT_EQ(util.size(), 1u);
  ASSERT_EQ(queue.size(), 1u);
  EXPECT_LE(util[0].size(), 2u * 960 + 4);
  EXPECT_LE(queue[0].size(), 2u * 960 + 4);
  EXPECT_LT(svg.size(), 200000u);
  double base_y = util[0].front().second, top_y = base_y;
  for (auto [x, y] : util[0]) top_y = std::min(top_y, y);
  EXPECT_LT(top_y, base_y - 50);  // the spike to 100 % survives
  double qbase = queue[0].front().second, qtop = qbase;
  for (auto [x, y] : queue[0]) qtop = std::min(qtop, y);
  EXPECT_LT(qtop, qbase - 50);
}

TEST(Chart, StepsHoldTheValue) {
  // Two samples far apart: the first value holds until the second's time.
  std::string svg = RenderChart({{"easy", {{0, 0.0, 0}, {1000, 1.0, 4}}}}, {});
  auto util = Lines(svg, "util");
  ASSERT_EQ(util.size(), 1u);
  ASSERT_EQ(util[0].size(), 3u);
  EXPECT_EQ(util[0][0].second, util[0][1].second);
  EXPECT_EQ(util[0][1].first, util[0][2].first);
  EXPECT_LT(util[0][2].second, util[0][1].second);
}

TEST(Chart, ClampsBadValues) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<Sample> s = {{0, nan, -7}, {10, inf, 3}, {20, 5.0, -1}, {30, -2.0, 2}, {40, -inf, 0}};
  ChartOptions opts;
  opts.width = -5;
  opts.height = 1 << 30;
  std::string svg = RenderChart({{"easy", s}}, opts);
  ExpectFrame(svg);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
  EXPECT_NE(svg.find("width=\"240\" height=\"8192\""), std::string::npos);
  for (const char* cls : {"util", "queue"}) {
    for (const auto& line : Lines(svg, cls)) {
      for (auto [x, y] : line) {
        EXPECT_GE(x, 0);
        EXPECT_LE(x, 240);
        EXPECT_GE(y, 0);
        EXPECT_LE(y, 8192);
      }
    }
  }
  // NaN (and inf) count as 0 %, the bottom; 5 is clamped to 100 %, above it.
  auto util = Lines(svg, "util")[0];
  double lo = util[0].second, hi = util[0].second;
  for (auto [x, y] : util) {
    lo = std::min(lo, y);
    hi = std::max(hi, y);
  }
  EXPECT_EQ(hi, util[0].second);
  EXPECT_LT(lo, hi);
  // Thin copes with NaN too.
  EXPECT_EQ(Thin(s, 6).size(), 5u);
}

TEST(Chart, NumbersHaveAtMostOneDecimal) {
  std::vector<Sample> s;
  for (int64_t i = 0; i < 997; ++i) s.push_back({i * 7, std::fmod(i * 0.3713, 1.0), i % 13});
  std::string svg = RenderChart({{"easy", s}, {"fcfs", Ramp(333, 17)}}, {"t", 1001, 777});
  ExpectFrame(svg);
  for (size_t i = 0; i + 2 < svg.size(); ++i) {
    if (svg[i] == '.' && std::isdigit(static_cast<unsigned char>(svg[i + 1])) &&
        std::isdigit(static_cast<unsigned char>(svg[i + 2])) && i > 0 &&
        std::isdigit(static_cast<unsigned char>(svg[i - 1]))) {
      ADD_FAILURE() << "two decimals at " << svg.substr(i - 5, 12);
      break;
    }
  }
  EXPECT_EQ(svg.find(".0\""), std::string::npos);
  EXPECT_EQ(svg.find("-0\""), std::string::npos);
}

TEST(Chart, NoData) {
  for (const std::vector<Series>& in : {std::vector<Series>{}, std::vector<Series>{{"easy", {}}}}) {
    ChartOptions opts;
    opts.title = "empty & all";
    std::string svg = RenderChart(in, opts);
    ExpectFrame(svg);
    EXPECT_TRUE(HasText(svg, "no data"));
    EXPECT_EQ(Count(svg, "<polyline"), 0u);
    EXPECT_NE(svg.find("empty &amp; all"), std::string::npos);
  }
}

// CORRAL_CHART_OUT=FILE writes a sample chart there, to look at.
TEST(Chart, Sample) {
  const char* out = std::getenv("CORRAL_CHART_OUT");
  if (!out) GTEST_SKIP() << "CORRAL_CHART_OUT not set";
  std::vector<Series> in;
  for (int p = 0; p < 3; ++p) {
    SeriesRecorder r(600);
    for (int64_t t = 0; t < 2 * 86400; t += 60) {
      double u = 0.5 + 0.4 * std::sin(t / 9000.0 + p) * (p == 2 ? 0.5 : 1);
      r.Add(t, u, static_cast<int64_t>(20 + 15 * std::cos(t / 7000.0 + p * 2) + (t == 86400) * 90));
    }
    in.push_back({p == 0 ? "easy" : p == 1 ? "fcfs" : "conservative <x>", r.Take()});
  }
  std::string svg = RenderChart(in, {"SDSC SP2 & friends", 960, 540});
  FILE* f = std::fopen(out, "w");
  ASSERT_NE(f, nullptr);
  std::fputs(svg.c_str(), f);
  std::fclose(f);
}

TEST(Chart, UnsortedAndSingleSamples) {
  std::string svg =
      RenderChart({{"a", {{50, 0.5, 1}, {10, 0.2, 3}, {30, 0.9, 0}}}, {"b", {{20, 0.4, 2}}}}, {});
  ExpectFrame(svg);
  auto util = Lines(svg, "util");
  ASSERT_EQ(util.size(), 2u);
  for (size_t i = 1; i < util[0].size(); ++i) {
    EXPECT_LE(util[0][i - 1].first, util[0][i].first);
  }
  EXPECT_EQ(util[1].size(), 2u);  // a lone sample: a short dash
}

TEST(Chart, ExtremeTimesAndQueues) {
  const int64_t big = std::numeric_limits<int64_t>::max();
  std::vector<Sample> s = {{-big, 0.5, big}, {0, 0.1, 3}, {big, 0.9, 0}};
  std::string svg = RenderChart({{"easy", s}, {"same instant", {{5, 0.5, 1}, {5, 0.6, 2}}}}, {});
  ExpectFrame(svg);
  EXPECT_EQ(Count(svg, "<polyline"), 4u);
  EXPECT_EQ(Thin(s, 6).size(), 3u);
}

bool Same(const std::vector<Sample>& got, const std::vector<Sample>& want) {
  if (got.size() != want.size()) return false;
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i].t_s != want[i].t_s || got[i].utilization != want[i].utilization ||
        got[i].queued != want[i].queued) {
      return false;
    }
  }
  return true;
}

std::string Show(const std::vector<Sample>& s) {
  std::string out;
  for (const Sample& x : s) {
    out += "{" + std::to_string(x.t_s) + "," + std::to_string(x.utilization) + "," +
           std::to_string(x.queued) + "} ";
  }
  return out;
}

TEST(SeriesRecorder, DropsRepeats) {
  SeriesRecorder r;
  r.Add(0, 0.5, 1);
  r.Add(1, 0.5, 1);
  r.Add(2, 0.6, 1);
  r.Add(2, 0.6, 1);
  r.Add(3, 0.6, 2);
  r.Add(9, 0.6, 2);
  std::vector<Sample> got = r.Take();
  EXPECT_TRUE(Same(got, {{0, 0.5, 1}, {2, 0.6, 1}, {3, 0.6, 2}})) << Show(got);
  EXPECT_TRUE(r.Take().empty());
  r.Add(5, 0.6, 2);  // after Take, a fresh start: kept
  EXPECT_EQ(r.Take().size(), 1u);
}

TEST(SeriesRecorder, KeepsTheLastAndThePeakPerInterval) {
  SeriesRecorder r(60);
  r.Add(0, 0.1, 0);
  r.Add(10, 0.9, 8);
  r.Add(20, 0.2, 1);  // last of [0, 60)
  r.Add(70, 0.3, 2);  // [60, 120): one sample
  r.Add(130, 0.8, 1);
  r.Add(140, 0.1, 9);
  r.Add(150, 0.2, 2);  // [120, 180): peaks from two samples
  r.Add(200, 0.1, 1);
  r.Add(210, 0.7, 5);  // [180, 240): the last is the peak
  std::vector<Sample> got = r.Take();
  EXPECT_TRUE(Same(
      got, {{0, 0.9, 8}, {20, 0.2, 1}, {70, 0.3, 2}, {130, 0.8, 9}, {150, 0.2, 2}, {210, 0.7, 5}}))
      << Show(got);
}

TEST(SeriesRecorder, PeakBelowTheLastAddsNothing) {
  SeriesRecorder r(60);
  r.Add(0, 0.5, 3);
  r.Add(70, 0.1, 1);  // a dip inside [60, 120), then back: the interval ends equal
  r.Add(80, 0.5, 3);
  std::vector<Sample> got = r.Take();
  EXPECT_TRUE(Same(got, {{0, 0.5, 3}})) << Show(got);
}

TEST(SeriesRecorder, ClampsAndOrders) {
  SeriesRecorder r(10);
  r.Add(-15, std::nan(""), -3);  // interval [-20, -10)
  r.Add(-5, 2.0, 4);             // [-10, 0)
  r.Add(-50, 0.5, 4);            // earlier than -5: taken as -5, same interval
  r.Add(100, -1.0, 0);
  std::vector<Sample> got = r.Take();
  EXPECT_TRUE(Same(got, {{-15, 0, 0}, {-5, 1.0, 4}, {-5, 0.5, 4}, {100, 0, 0}})) << Show(got);
}

TEST(SeriesRecorder, FeedsTheChart) {
  SeriesRecorder r(3600);
  for (int64_t t = 0; t < 7 * 86400; t += 30) r.Add(t, (t / 600) % 2 ? 0.8 : 0.4, (t / 900) % 5);
  std::vector<Sample> s = r.Take();
  EXPECT_LE(s.size(), 2u * 7 * 24);
  for (size_t i = 1; i < s.size(); ++i) {
    EXPECT_LE(s[i - 1].t_s, s[i].t_s);
  }
  std::string svg = RenderChart({{"easy", s}}, {"week", 960, 540});
  ExpectFrame(svg);
  EXPECT_TRUE(HasText(svg, "2 d") || HasText(svg, "1 d"));
}

}  // namespace
}  // namespace corral::sim
