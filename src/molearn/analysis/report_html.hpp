// The report of a training run as data (sections of tables, figures and
// notes), and its rendering as one self-contained HTML page: plotly.js is
// inlined, so the page opens offline and fetches nothing. The same figures are
// drawn as PNG/SVG by report_figures.hpp, so both renderers share this model.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace molearn {

enum class SeriesStyle { Lines, Markers, Histogram };

// One legend entry of a figure. Lines/Markers use x and y; a Histogram uses
// only x (the values to count; non-finite values are left out and counted in
// the legend).
struct Series {
  std::string name;
  SeriesStyle style = SeriesStyle::Lines;
  std::vector<double> x, y;
  std::string colour;  // CSS/gnuplot colour "#rrggbb"; empty: the palette's next
};

// Values on a regular grid drawn under the series: a heatmap (latent scans)
// or contour lines at `levels` (Ramachandran regions).
struct GridLayer {
  std::string name;          // colour-bar title, with unit
  std::vector<double> x, y;  // centres: nx and ny values, increasing
  std::vector<double> z;     // [ny][nx]; NaN where there is no value
  bool contour = false;
  std::vector<double> levels;            // contour: the levels drawn
  std::vector<std::string> level_names;  // contour: legend entry of each level
};

struct Figure {
  std::string id;  // DOM id and file stem of the PNG/SVG; [a-z0-9_-]
  std::string title;
  std::string x_label, y_label;  // with units
  std::vector<Series> series;
  std::optional<GridLayer> grid;
  std::optional<std::array<double, 4>> range;  // x0, x1, y0, y1; default: fit the data
  bool log_y = false;
  bool square = false;  // one unit of x as long as one of y (angles against angles)
  double tick = 0;      // spacing of the ticks of both axes; 0: automatic
};

struct Table {
  std::string caption;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

struct ReportSection {
  std::string id;  // DOM id; [a-z0-9_-]
  std::string title;
  std::string text;                // what the section shows (plain text)
  std::vector<std::string> notes;  // what could not be shown and why (plain text)
  std::vector<Table> tables;
  std::vector<Figure> figures;
};

struct Report {
  std::string title;
  std::string subtitle;  // run folder, checkpoint, dataset
  std::vector<ReportSection> sections;
};

// Common histogram bins of every Histogram series of a figure, so that the
// groups are compared bin by bin (both renderers use them).
struct HistogramBins {
  double start = 0, size = 1;
  std::size_t count = 1;
};
std::optional<HistogramBins> histogram_bins(const Figure& figure);
// Fraction of the finite values in each bin (empty when there are none).
std::vector<double> histogram_fractions(const std::vector<double>& values, const HistogramBins& bins);
std::size_t non_finite_count(const std::vector<double>& values);

// The colour of the n-th series without one (a palette readable in print).
std::string palette_colour(std::size_t n);

// The page. `plotly_js` is the content of plotly.min.js, inlined as it is.
std::string report_html(const Report& report, const std::string& plotly_js);

// The content of plotly.min.js: the build tree's share folder, then the
// installed share folder, then $MOLEARN_WEB_DIR. Throws InputError naming
// each place looked at when it is in none.
std::string load_plotly_js();

}  // namespace molearn
