#include "molearn/analysis/metric_table.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "molearn/core/error.hpp"

namespace molearn {

std::size_t MetricTable::column_index(const std::string& name) const {
  const auto it = std::find(columns.begin(), columns.end(), name);
  if (it == columns.end()) throw InputError("no metric column named '" + name + "'");
  return static_cast<std::size_t>(it - columns.begin());
}

std::vector<double> MetricTable::column(const std::string& name) const {
  const std::size_t c = column_index(name);
  std::vector<double> values;
  values.reserve(rows.size());
  for (const auto& row : rows) values.push_back(row[c]);
  return values;
}

void MetricTable::append_columns(const MetricTable& other) {
  if (columns.empty() && rows.empty()) {
    *this = other;
    return;
  }
  if (other.rows.size() != rows.size())
    throw Error("metric tables of " + std::to_string(rows.size()) + " and " + std::to_string(other.rows.size()) +
                " frames cannot be joined");
  columns.insert(columns.end(), other.columns.begin(), other.columns.end());
  for (std::size_t r = 0; r < rows.size(); ++r)
    rows[r].insert(rows[r].end(), other.rows[r].begin(), other.rows[r].end());
}

std::vector<ColumnSummary> summarise(const MetricTable& table) {
  std::vector<ColumnSummary> out;
  for (std::size_t c = 0; c < table.columns.size(); ++c) {
    ColumnSummary s;
    s.name = table.columns[c];
    double sum = 0;
    s.min = std::numeric_limits<double>::infinity();
    s.max = -s.min;
    for (const auto& row : table.rows) {
      const double v = row[c];
      if (!std::isfinite(v)) {
        ++s.not_finite;
        continue;
      }
      ++s.finite;
      sum += v;
      s.min = std::min(s.min, v);
      s.max = std::max(s.max, v);
    }
    const double nan = std::numeric_limits<double>::quiet_NaN();
    s.mean = s.finite ? sum / static_cast<double>(s.finite) : nan;
    if (!s.finite) s.min = s.max = nan;
    out.push_back(s);
  }
  return out;
}

}  // namespace molearn
