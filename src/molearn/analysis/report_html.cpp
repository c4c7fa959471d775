#include "molearn/analysis/report_html.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "molearn/analysis/web_assets.hpp"
#include "molearn/core/error.hpp"

namespace molearn {

namespace {

using nlohmann::json;

std::string escape_html(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Text inside <script> ends at the first "</script" and changes parsing state
// at "<!--": both are written as JavaScript/JSON escapes, which mean the same.
std::string escape_script(const std::string& text) {
  std::string out;
  out.reserve(text.size() + 16);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '<' && (text.compare(i, 2, "</") == 0 || text.compare(i, 4, "<!--") == 0)) {
      out += "<\\";
      continue;
    }
    out += text[i];
  }
  return out;
}

// JSON has no NaN: plotly reads null as a gap.
json numbers(const std::vector<double>& values) {
  json out = json::array();
  for (double v : values) out.push_back(std::isfinite(v) ? json(v) : json(nullptr));
  return out;
}

std::vector<double> finite_values(const std::vector<double>& values) {
  std::vector<double> out;
  for (double v : values)
    if (std::isfinite(v)) out.push_back(v);
  return out;
}

std::string legend_name(const Series& s) {
  if (s.style != SeriesStyle::Histogram) return s.name;
  const std::size_t bad = non_finite_count(s.x);
  std::string name = s.name + " (n=" + std::to_string(s.x.size() - bad);
  if (bad) name += ", " + std::to_string(bad) + " not finite";
  return name + ")";
}

json trace_of(const Series& s, const std::string& colour, const std::optional<HistogramBins>& bins) {
  json t = {{"name", legend_name(s)}, {"type", s.style == SeriesStyle::Histogram ? "bar" : "scatter"}};
  if (s.style == SeriesStyle::Histogram) {
    if (!bins) return t;  // no finite value in the figure: nothing to count (the caller says so)
    std::vector<double> centres;
    for (std::size_t b = 0; b < bins->count; ++b) centres.push_back(bins->start + (double(b) + 0.5) * bins->size);
    t["x"] = numbers(centres);
    t["y"] = numbers(histogram_fractions(s.x, *bins));
    t["width"] = bins->size;
    t["opacity"] = 0.55;
    t["marker"] = {{"color", colour}, {"line", {{"color", colour}, {"width", 1}}}};
    return t;
  }
  t["x"] = numbers(s.x);
  t["y"] = numbers(s.y);
  if (s.style == SeriesStyle::Lines) {
    t["mode"] = "lines+markers";
    t["line"] = {{"color", colour}, {"width", 2}};
    t["marker"] = {{"size", 5}, {"color", colour}};
  } else {
    t["mode"] = "markers";
    t["marker"] = {{"size", 6}, {"color", colour}, {"opacity", 0.75}, {"line", {{"color", "#333333"}, {"width", 0.6}}}};
  }
  return t;
}

json z_rows(const GridLayer& g) {
  json rows = json::array();
  for (std::size_t j = 0; j < g.y.size(); ++j)
    rows.push_back(
        numbers(std::vector<double>(g.z.begin() + long(j * g.x.size()), g.z.begin() + long((j + 1) * g.x.size()))));
  return rows;
}

// A heatmap, or one contour trace per level (plotly spaces levels evenly,
// and the Ramachandran thresholds are not).
json grid_traces(const GridLayer& g) {
  json traces = json::array();
  if (!g.contour) {
    traces.push_back({{"type", "heatmap"},
                      {"name", g.name},
                      {"x", numbers(g.x)},
                      {"y", numbers(g.y)},
                      {"z", z_rows(g)},
                      {"colorscale", "Viridis"},
                      {"colorbar", {{"title", {{"text", g.name}, {"side", "right"}}}}},
                      {"hoverongaps", false}});
    return traces;
  }
  const char* dashes[] = {"solid", "dot", "dash"};
  for (std::size_t l = 0; l < g.levels.size(); ++l) {
    traces.push_back({{"type", "contour"},
                      {"name", l < g.level_names.size() ? g.level_names[l] : g.name},
                      {"showlegend", true},
                      {"x", numbers(g.x)},
                      {"y", numbers(g.y)},
                      {"z", z_rows(g)},
                      {"showscale", false},
                      {"hoverinfo", "skip"},
                      {"contours", {{"coloring", "none"}, {"start", g.levels[l]}, {"end", g.levels[l]}, {"size", 1}}},
                      {"line", {{"color", "#555555"}, {"width", 1.2}, {"dash", dashes[l % 3]}}}});
  }
  return traces;
}

json axis(const std::string& title, std::optional<std::pair<double, double>> range, bool log) {
  json a = {{"title", {{"text", title}}}, {"zeroline", false}, {"automargin", true}};
  if (range) a["range"] = {range->first, range->second};
  if (log) a["type"] = "log";
  return a;
}

json figure_json(const Figure& f) {
  const auto bins = histogram_bins(f);
  json data = json::array();
  if (f.grid)
    for (auto& t : grid_traces(*f.grid)) data.push_back(t);
  std::size_t next_colour = 0;
  for (const Series& s : f.series)
    data.push_back(trace_of(s, s.colour.empty() ? palette_colour(next_colour++) : s.colour, bins));
  std::optional<std::pair<double, double>> xr, yr;
  if (f.range) xr = std::pair((*f.range)[0], (*f.range)[1]), yr = std::pair((*f.range)[2], (*f.range)[3]);
  json layout = {{"title", {{"text", f.title}, {"font", {{"size", 15}}}}},
                 {"xaxis", axis(f.x_label, xr, false)},
                 {"yaxis", axis(f.y_label, yr, f.log_y)},
                 {"barmode", "overlay"},
                 {"legend", {{"orientation", "h"}, {"y", -0.22}, {"yanchor", "top"}}},
                 {"margin", {{"t", 48}, {"r", 24}, {"b", 40}, {"l", 64}}},
                 {"height", 420},
                 {"paper_bgcolor", "#ffffff"},
                 {"plot_bgcolor", "#fafafa"}};
  if (f.square) {
    layout["yaxis"]["scaleanchor"] = "x";
    layout["yaxis"]["scaleratio"] = 1;
    layout["xaxis"]["constrain"] = layout["yaxis"]["constrain"] = "domain";
    layout["height"] = 560;
  }
  if (f.tick > 0) layout["xaxis"]["dtick"] = layout["yaxis"]["dtick"] = f.tick;
  return {{"data", data}, {"layout", layout}};
}

void write_table(std::ostringstream& out, const Table& table) {
  out << "<table class=\"numbers\">";
  if (!table.caption.empty()) out << "<caption>" << escape_html(table.caption) << "</caption>";
  out << "<thead><tr>";
  for (const auto& h : table.header) out << "<th>" << escape_html(h) << "</th>";
  out << "</tr></thead><tbody>\n";
  for (const auto& row : table.rows) {
    out << "<tr>";
    for (std::size_t c = 0; c < row.size(); ++c)
      out << (c ? "<td>" : "<th>") << escape_html(row[c]) << (c ? "</td>" : "</th>");
    out << "</tr>\n";
  }
  out << "</tbody></table>\n";
}

void write_section(std::ostringstream& out, const ReportSection& s, std::size_t number, json& figures) {
  out << "<section class=\"report-section\" id=\"" << escape_html(s.id) << "\">\n<h2>" << number << ". "
      << escape_html(s.title) << "</h2>\n";
  if (!s.text.empty()) out << "<p>" << escape_html(s.text) << "</p>\n";
  for (const auto& note : s.notes) out << "<p class=\"note unavailable\">" << escape_html(note) << "</p>\n";
  for (const Table& t : s.tables) write_table(out, t);
  if (!s.figures.empty()) out << "<div class=\"plots\">\n";
  for (const Figure& f : s.figures) {
    out << "<div class=\"plot\" id=\"fig-" << escape_html(f.id) << "\"></div>\n";
    figures["fig-" + f.id] = figure_json(f);
  }
  if (!s.figures.empty()) out << "</div>\n";
  out << "</section>\n";
}

constexpr const char* kStyle = R"(
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 0; color: #1b1b1b; background: #f4f5f7; }
header { background: #23395d; color: #fff; padding: 18px 32px; }
header h1 { margin: 0 0 6px 0; font-size: 24px; }
header p { margin: 0; opacity: 0.85; }
nav { padding: 8px 32px; background: #e4e8ef; font-size: 14px; }
nav a { margin-right: 14px; color: #23395d; }
main { max-width: 1240px; margin: 0 auto; padding: 8px 24px 40px 24px; }
.report-section { background: #fff; border-radius: 6px; padding: 12px 20px 16px 20px; margin: 18px 0;
                  box-shadow: 0 1px 3px rgba(0,0,0,0.12); }
.report-section h2 { font-size: 19px; margin: 6px 0 8px 0; color: #23395d; }
.plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 12px; }
.plot { min-height: 420px; }
.note { background: #fff6e0; border-left: 4px solid #e0a800; padding: 6px 10px; }
table.numbers { border-collapse: collapse; font-size: 14px; margin: 8px 0 14px 0; }
table.numbers caption { text-align: left; font-weight: bold; padding: 4px 0; }
table.numbers th, table.numbers td { border-bottom: 1px solid #ddd; padding: 4px 12px; text-align: right; }
table.numbers th:first-child { text-align: left; }
table.numbers thead th { background: #eef1f6; }
footer { text-align: center; font-size: 12px; color: #666; padding: 12px; }
)";

// Draws every figure once the page is parsed; a figure that fails to draw
// says so in its box instead of staying blank.
constexpr const char* kDrawScript = R"(
(function () {
  var figures = JSON.parse(document.getElementById('molearn-figures').textContent);
  Object.keys(figures).forEach(function (id) {
    var div = document.getElementById(id);
    var f = figures[id];
    try {
      Plotly.newPlot(div, f.data, f.layout, {responsive: true, displaylogo: false,
                                              toImageButtonOptions: {format: 'svg', filename: id}});
    } catch (e) {
      div.className += ' failed';
      div.textContent = 'This figure could not be drawn: ' + e;
    }
  });
})();
)";

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in && !in.eof()) throw InputError(path.string() + ": cannot be read");
  return text.str();
}

}  // namespace

std::size_t non_finite_count(const std::vector<double>& values) {
  return static_cast<std::size_t>(
      std::count_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); }));
}

std::optional<HistogramBins> histogram_bins(const Figure& figure) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  std::size_t n = 0;
  for (const Series& s : figure.series) {
    if (s.style != SeriesStyle::Histogram) continue;
    for (double v : finite_values(s.x)) lo = std::min(lo, v), hi = std::max(hi, v), ++n;
  }
  if (n == 0) return std::nullopt;
  // About sqrt(n) bins, between 8 and 40; a single value gets a unit-wide bin.
  const std::size_t count = std::clamp<std::size_t>(std::size_t(std::sqrt(double(n))), 8, 40);
  double width = (hi - lo) / double(count);
  if (!(width > 0)) width = std::max(std::abs(lo) * 0.05, 1e-6);
  const double start = hi > lo ? lo : lo - width * double(count) / 2;
  return HistogramBins{start, width, count};
}

std::vector<double> histogram_fractions(const std::vector<double>& values, const HistogramBins& bins) {
  std::vector<double> counts(bins.count, 0.0);
  const auto finite = finite_values(values);
  for (double v : finite) {
    const double b = std::floor((v - bins.start) / bins.size);
    counts[std::size_t(std::clamp(b, 0.0, double(bins.count - 1)))] += 1;
  }
  for (double& c : counts) c = finite.empty() ? 0.0 : c / double(finite.size());
  return counts;
}

std::string palette_colour(std::size_t n) {
  // Okabe-Ito: distinguishable with colour-vision deficiencies and in grey.
  static const char* colours[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"};
  return colours[n % 7];
}

std::string report_html(const Report& report, const std::string& plotly_js) {
  std::ostringstream out;
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      << "<title>" << escape_html(report.title) << "</title>\n<style>" << kStyle << "</style>\n"
      << "<script>\n"
      << escape_script(plotly_js) << "\n</script>\n</head>\n<body>\n<header><h1>" << escape_html(report.title)
      << "</h1><p>" << escape_html(report.subtitle) << "</p></header>\n<nav>";
  for (std::size_t i = 0; i < report.sections.size(); ++i)
    out << "<a href=\"#" << escape_html(report.sections[i].id) << "\">" << i + 1 << ". "
        << escape_html(report.sections[i].title) << "</a>";
  out << "</nav>\n<main>\n";
  json figures = json::object();
  for (std::size_t i = 0; i < report.sections.size(); ++i) write_section(out, report.sections[i], i + 1, figures);
  out << "</main>\n<footer>molearn " << MOLEARN_VERSION
      << " &mdash; self-contained report; the figures are interactive (plotly.js, MIT licence, inlined).</footer>\n"
      << "<script type=\"application/json\" id=\"molearn-figures\">" << escape_script(figures.dump())
      << "</script>\n<script>" << kDrawScript << "</script>\n</body>\n</html>\n";
  return out.str();
}

std::string load_plotly_js() { return read_file(find_web_asset("plotly.min.js")); }

}  // namespace molearn
