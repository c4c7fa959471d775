#include "molearn/analysis/report_figures.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "molearn/core/atomic_file.hpp"
#include "molearn/core/error.hpp"

extern char** environ;

namespace molearn {

namespace fs = std::filesystem;

StagedFolder::StagedFolder(std::string final_path)
    : final_path_(std::move(final_path)), temp_path_(final_path_ + ".tmp." + std::to_string(::getpid())) {
  remove_stale_temporaries(final_path_);
  std::error_code ec;
  fs::remove_all(temp_path_, ec);
  if (!fs::create_directory(temp_path_, ec) || ec)
    throw OutputError(final_path_ + ": cannot create the folder (does its parent exist and is it writable?)");
}

StagedFolder::~StagedFolder() {
  if (done_) return;
  std::error_code ec;
  fs::remove_all(temp_path_, ec);
}

void StagedFolder::commit() {
  if (done_) return;
  // rename() cannot replace a non-empty folder: the previous one moves aside
  // first and is removed afterwards, so that a run killed meanwhile leaves
  // whole folders only, never a half-removed one under the final name.
  const std::string previous = final_path_ + ".old." + std::to_string(::getpid());
  std::error_code ec;
  fs::remove_all(previous, ec);
  fs::rename(final_path_, previous, ec);  // fails harmlessly when there is none
  fs::rename(temp_path_, final_path_, ec);
  if (ec) {
    const std::string why = ec.message();
    fs::rename(previous, final_path_, ec);
    throw OutputError(final_path_ + ": cannot move the finished folder into place: " + why);
  }
  done_ = true;
  fs::remove_all(previous, ec);
}

namespace {

// A scratch folder for gnuplot's scripts and data, removed afterwards.
class ScratchFolder {
 public:
  ScratchFolder() {
    std::string pattern = (fs::temp_directory_path() / "molearn-figures-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw OutputError("cannot create a temporary folder in " + pattern);
    path_ = pattern;
  }
  ~ScratchFolder() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  ScratchFolder(const ScratchFolder&) = delete;
  ScratchFolder& operator=(const ScratchFolder&) = delete;
  fs::path file(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

// gnuplot strings in single quotes: a quote is doubled.
std::string quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();  // a short write (full disk) shows only when the buffer is flushed
  if (!out) throw OutputError(path.string() + ": cannot write gnuplot's input");
}

// x y per line; a blank line breaks a curve at a non-finite point.
std::string xy_data(const std::vector<double>& x, const std::vector<double>& y) {
  std::ostringstream out;
  out.precision(10);
  for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) {
    if (std::isfinite(x[i]) && std::isfinite(y[i]))
      out << x[i] << ' ' << y[i] << '\n';
    else
      out << '\n';
  }
  return out.str();
}

// gnuplot's "nonuniform matrix": a first row of nx then the x values; each
// further row holds y then the z values of that row.
std::string grid_data(const GridLayer& g) {
  std::ostringstream out;
  out.precision(10);
  out << g.x.size();
  for (double x : g.x) out << ' ' << x;
  out << '\n';
  for (std::size_t j = 0; j < g.y.size(); ++j) {
    out << g.y[j];
    for (std::size_t i = 0; i < g.x.size(); ++i) {
      const double z = g.z[j * g.x.size() + i];
      out << ' ';
      if (std::isfinite(z))
        out << z;
      else
        out << "NaN";
    }
    out << '\n';
  }
  return out.str();
}

std::string legend(const Series& s) {
  if (s.style != SeriesStyle::Histogram) return s.name;
  const std::size_t bad = non_finite_count(s.x);
  return s.name + " (n=" + std::to_string(s.x.size() - bad) + (bad ? ", " + std::to_string(bad) + " not finite" : "") +
         ")";
}

// Grid layers: contours are traced once into a table, then drawn as lines.
std::string grid_setup(const GridLayer& g, const ScratchFolder& scratch, std::vector<std::string>& plots) {
  const fs::path data = scratch.file("grid.dat");
  write_text(data, grid_data(g));
  std::ostringstream out;
  if (!g.contour) {
    // Viridis, as the HTML heatmaps (gnuplot 5.4 has no named palettes).
    out << "set palette defined (0 '#440154', 0.25 '#3b528b', 0.5 '#21918c', 0.75 '#5ec962', 1 '#fde725')\n"
        << "set cblabel " << quoted(g.name) << "\n";
    plots.push_back(quoted(data.string()) + " nonuniform matrix using 1:2:3 with image notitle");
    return out.str();
  }
  // One table per level, so that each level gets its own dash type and
  // legend entry whatever order gnuplot traces them in (as the HTML).
  out << "set contour base\nunset surface\nset view map\n";
  for (std::size_t l = 0; l < g.levels.size(); ++l) {
    const fs::path lines = scratch.file("contour" + std::to_string(l) + ".dat");
    out << "set cntrparam levels discrete " << g.levels[l] << "\nset table " << quoted(lines.string()) << "\nsplot "
        << quoted(data.string()) << " nonuniform matrix using 1:2:3 notitle\nunset table\n";
    plots.push_back(quoted(lines.string()) + " using 1:2 with lines lc rgb '#555555' lw 1.2 dt " +
                    std::to_string(l + 1) + " title " + quoted(l < g.level_names.size() ? g.level_names[l] : g.name));
  }
  out << "unset contour\nset surface\n";
  return out.str();
}

std::string series_plot(const Series& s, std::size_t index, const std::string& colour,
                        const std::optional<HistogramBins>& bins, const ScratchFolder& scratch) {
  const fs::path data = scratch.file("series" + std::to_string(index) + ".dat");
  const std::string head = quoted(data.string()) + " using 1:2 ";
  const std::string tail = " lc rgb " + quoted(colour) + " title " + quoted(legend(s));
  if (s.style == SeriesStyle::Histogram) {
    if (!bins) return "NaN notitle";  // no finite value to count (the caller says so)
    std::vector<double> centres;
    for (std::size_t b = 0; b < bins->count; ++b) centres.push_back(bins->start + (double(b) + 0.5) * bins->size);
    write_text(data, xy_data(centres, histogram_fractions(s.x, *bins)));
    return head + "with boxes fs transparent solid 0.45 border fc rgb " + quoted(colour) + tail;
  }
  write_text(data, xy_data(s.x, s.y));
  if (s.style == SeriesStyle::Lines) return head + "with linespoints pt 7 ps 0.5 lw 2" + tail;
  return head + "with points pt 7 ps 0.8" + tail;
}

std::string figure_script(const Figure& f, const ScratchFolder& scratch, const fs::path& png, const fs::path& svg) {
  std::ostringstream out;
  out << "set termoption noenhanced\nset datafile missing 'NaN'\n"
      << "set title " << quoted(f.title) << "\nset xlabel " << quoted(f.x_label) << "\nset ylabel " << quoted(f.y_label)
      << "\nset key outside top center horizontal\nset grid lc rgb '#dddddd'\nset tics out nomirror\n";
  if (f.range)
    out << "set xrange [" << (*f.range)[0] << ":" << (*f.range)[1] << "]\nset yrange [" << (*f.range)[2] << ":"
        << (*f.range)[3] << "]\n";
  if (f.log_y) out << "set logscale y\n";
  if (f.square) out << "set size ratio -1\n";
  if (f.tick > 0) out << "set xtics " << f.tick << "\nset ytics " << f.tick << "\n";
  const auto bins = histogram_bins(f);
  if (bins) out << "set boxwidth " << bins->size << " absolute\nset style fill transparent solid 0.45\n";
  std::vector<std::string> plots;
  if (f.grid) out << grid_setup(*f.grid, scratch, plots);
  std::size_t next_colour = 0;
  for (std::size_t i = 0; i < f.series.size(); ++i) {
    const Series& s = f.series[i];
    plots.push_back(series_plot(s, i, s.colour.empty() ? palette_colour(next_colour++) : s.colour, bins, scratch));
  }
  std::string plot = "plot ";
  for (std::size_t i = 0; i < plots.size(); ++i) plot += (i ? ", \\\n  " : "") + plots[i];
  out << "set terminal pngcairo size 960,640 font 'DejaVu Sans,12'\nset output " << quoted(png.string()) << "\n"
      << plot << "\nset terminal svg size 960,640 dynamic font 'DejaVu Sans,12'\nset output " << quoted(svg.string())
      << "\nreplot\nunset output\n";
  return out.str();
}

// Runs gnuplot on a script; returns "" or what went wrong (its stderr).
std::string run_gnuplot(const std::string& gnuplot, const fs::path& script, const fs::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::string script_path = script.string();
  std::string program = gnuplot;
  char* argv[] = {program.data(), script_path.data(), nullptr};
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, gnuplot.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return "cannot start " + gnuplot;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  std::ifstream in(log);
  std::ostringstream text;
  text << in.rdbuf();
  return "gnuplot failed: " + text.str();
}

}  // namespace

std::string find_gnuplot() {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const fs::path candidate = fs::path(dir) / "gnuplot";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return "";
}

FigureFiles write_figure_files(const std::vector<Figure>& figures, const std::string& folder) {
  FigureFiles files;
  const std::string gnuplot = find_gnuplot();
  if (gnuplot.empty()) {
    files.notes.push_back(
        "PNG/SVG figures were not drawn: gnuplot was not found on PATH (install Debian's gnuplot-nox); the HTML "
        "report has every figure.");
    return files;
  }
  for (const Figure& f : figures) {
    ScratchFolder scratch;
    const fs::path png = fs::path(folder) / (f.id + ".png"), svg = fs::path(folder) / (f.id + ".svg");
    write_text(scratch.file("figure.gp"), figure_script(f, scratch, png, svg));
    const std::string error = run_gnuplot(gnuplot, scratch.file("figure.gp"), scratch.file("gnuplot.log"));
    if (!error.empty() || !fs::exists(png)) {
      files.notes.push_back("figure " + f.id + " was not drawn as PNG/SVG: " + (error.empty() ? "no output" : error));
      continue;
    }
    files.written.push_back(f.id + ".png");
    files.written.push_back(f.id + ".svg");
  }
  return files;
}

}  // namespace molearn
