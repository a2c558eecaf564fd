// A self-contained SVG line chart of a replay over simulated time (`corral sim --svg FILE`),
// drawn by our own code: two stacked panels (top: utilisation 0-100 %, bottom: jobs queued from 0
// to a round number at or above the maximum) over one shared time axis, one step line per series
// and panel in a fixed palette of 10 colours, a legend and the title. Numbers carry at most one
// decimal; NaN and infinite utilisation count as 0, utilisation is clamped to 0..1 and a negative
// queue to 0. Names and title are XML-escaped (control characters other than tab and newline are
// dropped). No series with samples: a valid SVG saying "no data". Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace corral::sim {

// One sample of a replay's state; it holds until the next sample (a step chart).
struct Sample {
  int64_t t_s = 0;
  double utilization = 0;  // 0..1: busy CPUs (or GPUs) over all
  int64_t queued = 0;      // jobs waiting
};

struct Series {
  std::string name;             // the policy, e.g. "easy"
  std::vector<Sample> samples;  // ascending t_s (sorted here if not)
};

struct ChartOptions {
  std::string title;
  int width = 960;   // clamped to 240..8192
  int height = 540;  // clamped to 240..8192
};

// The SVG text, ending "</svg>\n". Time ticks are labelled in seconds, minutes, hours or days
// chosen by the span ("0", "30 min", "6 h", "2 d"), in absolute simulated time. Each line keeps,
// per pixel column, the min and max of its value (plus the column's last value before a gap), so
// a line has at most about 2 points per pixel and spikes survive. A series without samples shows
// in the legend as "name (no data)" and draws no line.
std::string RenderChart(const std::vector<Series>& series, const ChartOptions& opts);

// At most max(max_points, 6) samples of `s` (ascending t_s): `s` itself when it is that short,
// else the first, the last, and of each of (max_points - 2) / 4 equal time buckets the samples
// with the min and max utilisation and the min and max queue (first of ties), in their order.
std::vector<Sample> Thin(const std::vector<Sample>& s, size_t max_points);

// Accumulates a series cheaply. Values are clamped as in the chart and a time earlier than the
// previous one is taken as the previous one. A sample whose values equal the previous sample's is
// dropped. With resolution_s <= 0 every other sample is kept. Else time is cut in intervals
// [k r, (k+1) r): of each interval the last sample is kept at its own time, preceded, when its
// values differ from the last's, by a point at the interval's first sample time carrying the
// interval's peak utilisation and peak queue (so at most 2 points per interval); an emitted point
// equal in values to the one before it is dropped. Take() returns the samples (ascending t_s)
// and starts afresh. Pure.
class SeriesRecorder {
 public:
  explicit SeriesRecorder(int64_t resolution_s = 0) : resolution_s_(resolution_s) {}
  void Add(int64_t t_s, double util, int64_t queued);
  std::vector<Sample> Take();

 private:
  void Close();
  void Emit(const Sample& s);

  int64_t resolution_s_;
  std::vector<Sample> out_;
  bool any_ = false;   // a sample was added since the last Take
  Sample prev_;        // the previous sample added (clamped)
  bool open_ = false;  // an interval has samples not yet emitted
  int64_t interval_ = 0, first_t_ = 0;
  Sample last_;
  double peak_util_ = 0;
  int64_t peak_queued_ = 0;
};

}  // namespace corral::sim
