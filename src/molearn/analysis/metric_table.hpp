// Per-frame results of metrics: one row per frame, one named column per
// quantity. Undefined values (a NaN coordinate, no residue to score) are NaN,
// never zero. `molearn score`, `scan` and `report` all consume this shape.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace molearn {

struct MetricTable {
  std::vector<std::string> columns;
  std::vector<std::vector<double>> rows;  // rows[frame][column]

  std::size_t column_index(const std::string& name) const;  // throws InputError when absent
  std::vector<double> column(const std::string& name) const;

  // Appends the columns of `other` (same number of rows) to this table.
  void append_columns(const MetricTable& other);
};

// Mean, min and max of the finite values of a column, and how many were not finite.
struct ColumnSummary {
  std::string name;
  double mean = 0, min = 0, max = 0;
  std::size_t finite = 0, not_finite = 0;
};

std::vector<ColumnSummary> summarise(const MetricTable& table);

}  // namespace molearn
