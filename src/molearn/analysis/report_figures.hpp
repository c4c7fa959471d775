// The figures of a report as PNG and SVG files, for papers: drawn by gnuplot
// (Debian's gnuplot-nox, cairo terminals) run as a subprocess on a script
// written to a temporary folder. Same figure model as the HTML page.
#pragma once

#include <string>
#include <vector>

#include "molearn/analysis/report_html.hpp"

namespace molearn {

// A folder written under a temporary name and renamed into place by
// commit(), so that a failed report leaves no half-filled figure folder. A
// previous folder of the same name is replaced on commit.
class StagedFolder {
 public:
  explicit StagedFolder(std::string final_path);  // creates the temporary folder; throws OutputError
  ~StagedFolder();                                // removes it unless committed
  StagedFolder(const StagedFolder&) = delete;
  StagedFolder& operator=(const StagedFolder&) = delete;

  const std::string& temporary_path() const { return temp_path_; }
  const std::string& path() const { return final_path_; }
  void commit();  // throws OutputError

 private:
  std::string final_path_, temp_path_;
  bool done_ = false;
};

struct FigureFiles {
  std::vector<std::string> written;  // file names, e.g. "loss.png", "loss.svg"
  std::vector<std::string> notes;    // what was not drawn and why (gnuplot missing, a figure failed)
};

// The gnuplot executable on PATH, or "" when there is none.
std::string find_gnuplot();

// Draws every figure as <folder>/<id>.png and <id>.svg. Never throws for a
// missing or failing gnuplot: the notes say what is missing (so the rest of
// the report is still written). Throws OutputError when a file cannot be
// written.
FigureFiles write_figure_files(const std::vector<Figure>& figures, const std::string& folder);

}  // namespace molearn
