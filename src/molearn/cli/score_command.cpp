// `molearn score`: quality metrics of any structures or trajectories (MD
// frames or decoded conformers), one row per frame plus a summary.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "commands.hpp"
#include "molearn/analysis/backbone.hpp"
#include "molearn/analysis/conformers.hpp"
#include "molearn/analysis/dope.hpp"
#include "molearn/analysis/energy_metric_torch.hpp"
#include "molearn/analysis/geometry_quality.hpp"
#include "molearn/analysis/ideal_geometry.hpp"
#include "molearn/analysis/metric_table.hpp"
#include "molearn/analysis/ramachandran.hpp"
#include "molearn/analysis/rmsd.hpp"
#include "molearn/analysis/structure_matching_to_topology.hpp"
#include "molearn/core/atomic_file.hpp"
#include "molearn/core/error.hpp"
#include "molearn/physics/forcefield_reader.hpp"
#include "option_checks.hpp"

namespace molearn::cli {

namespace {

struct ScoreArgs {
  std::vector<std::string> inputs;
  std::string topology;
  std::string atoms;
  std::string metrics;
  bool json = false;
  bool csv = false;
  std::string per_residue;
  int threads = 0;
  std::string data_dir;
  std::string chain_ends = "chains";
  double dope_cutoff = 15;
  bool dope_all_pairs = false;
  std::string engine = "auto";
  std::vector<std::string> forcefield = kDefaultForceField;
};

// The frames of every input (one topology), and where each frame comes from.
struct Input {
  Conformers conformers;
  std::vector<std::string> frame_file;
  std::vector<std::size_t> frame_index;  // index in its file
};

bool same_atoms(const Topology& a, const Topology& b) {
  if (a.atom_count() != b.atom_count()) return false;
  for (std::size_t i = 0; i < a.atom_count(); ++i) {
    const Atom &x = a.atom(i), &y = b.atom(i);
    if (x.name != y.name || x.res_name != y.res_name || x.res_seq != y.res_seq || x.chain != y.chain) return false;
  }
  return true;
}

Input read_inputs(const ScoreArgs& args) {
  const ChainEnds ends = args.chain_ends == "geometry" ? ChainEnds::Geometry : ChainEnds::Chains;
  Input in;
  for (const std::string& path : args.inputs) {
    Conformers c = read_conformers(path, args.topology, args.atoms, ends);
    const std::size_t frames = c.frame_count;
    if (in.frame_file.empty()) {
      in.conformers = std::move(c);
    } else {
      if (!same_atoms(c.topology, in.conformers.topology))
        throw InputError(path + ": its " + std::to_string(c.atom_count()) + " atoms are not those of " +
                         args.inputs.front() + " (" + std::to_string(in.conformers.atom_count()) +
                         " atoms): every input must hold one topology");
      in.conformers.xyz.insert(in.conformers.xyz.end(), c.xyz.begin(), c.xyz.end());
      in.conformers.frame_count += frames;
    }
    for (std::size_t k = 0; k < frames; ++k) {
      in.frame_file.push_back(path);
      in.frame_index.push_back(k);
    }
  }
  return in;
}

// One requested metric: its name and, for rmsd, the reference.
struct MetricRequest {
  std::string name;
  std::string argument;
};

const char* const kMetricNames = "rmsd[:REF], geometry, rama, dope, energy";

std::vector<MetricRequest> parse_metrics(const std::string& text) {
  std::vector<MetricRequest> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, comma - start);
    start = comma + 1;
    if (item.empty()) continue;
    const std::size_t colon = item.find(':');
    MetricRequest m{item.substr(0, colon), colon == std::string::npos ? "" : item.substr(colon + 1)};
    if (m.name != "rmsd" && m.name != "geometry" && m.name != "rama" && m.name != "dope" && m.name != "energy")
      throw InputError("--metrics: unknown metric '" + item + "' (expected " + kMetricNames + ")");
    if (m.name != "rmsd" && colon != std::string::npos)
      throw InputError("--metrics: '" + item + "': only rmsd takes an argument (rmsd:REF)");
    out.push_back(m);
  }
  if (out.empty()) throw InputError("--metrics names no metric (expected " + std::string(kMetricNames) + ")");
  return out;
}

bool all_digits(const std::string& s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos; }

// rmsd:REF: a frame index of the input (0-based) or a structure file.
std::vector<float> rmsd_reference(const ScoreArgs& args, const Input& in, const std::string& ref) {
  const Conformers& c = in.conformers;
  if (ref.empty() || all_digits(ref)) {
    const unsigned long long index = ref.empty() ? 0 : std::stoull(ref);
    if (index >= c.frame_count)
      throw InputError("rmsd:" + ref + ": frame " + std::to_string(index) + " is out of range: " +
                       (args.inputs.size() == 1 ? args.inputs.front() + " has " : std::string("the inputs have ")) +
                       std::to_string(c.frame_count) + " frames (0 to " + std::to_string(c.frame_count - 1) + ")");
    const auto frame = c.frame(index);
    return {frame.begin(), frame.end()};
  }
  // A trajectory without topology as reference takes --top, as the inputs do.
  return coordinates_in_topology_order(c.topology, ref, args.topology);
}

// What the metrics computed, and what the user should know about them.
struct ScoreResult {
  MetricTable table;
  std::vector<std::string> metrics;
  std::vector<std::string> notes;
  std::unique_ptr<RamachandranTables> rama;  // for --per-residue
  // Wall time of reading and of each metric, for --json (benchmarks use it).
  nlohmann::json seconds = nlohmann::json::object();
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

ScoreResult compute(const ScoreArgs& args, const Input& in) {
  const bool defaults = args.metrics.empty();
  const std::vector<MetricRequest> requests =
      parse_metrics(defaults ? std::string("geometry,rama,dope,energy") : args.metrics);
  ScoreResult result;
  result.table.rows.resize(in.conformers.frame_count);
  const Conformers& c = in.conformers;
  for (const MetricRequest& m : requests) {
    const auto start = std::chrono::steady_clock::now();
    try {
      if (m.name == "rmsd") {
        result.table.append_columns(rmsd_metrics(c, rmsd_reference(args, in, m.argument), args.threads));
      } else if (m.name == "geometry") {
        const IdealGeometry ideal = ideal_geometry(read_forcefield(args.forcefield), c);
        result.table.append_columns(geometry_metrics(c, ideal, args.threads));
        result.notes.push_back("geometry: " + std::to_string(ideal.bonds.size()) + " bonds and " +
                               std::to_string(ideal.angles.size()) + " angles against the force field's " +
                               "equilibrium values; clashes: heavy atoms < 3 A, more than 3 bonds apart");
      } else if (m.name == "rama") {
        result.rama = std::make_unique<RamachandranTables>(RamachandranTables::load(args.data_dir));
        result.table.append_columns(ramachandran_metrics(c, *result.rama, args.threads));
      } else if (m.name == "dope") {
        const DopeTable table = DopeTable::load(args.data_dir);
        const std::size_t untyped = dope_atom_types(c.topology, table).untyped_heavy_atoms;
        if (untyped > 0)
          result.notes.push_back("dope: " + std::to_string(untyped) +
                                 " heavy atoms without a DOPE type (OXT, ligands, unknown residues) left out");
        result.table.append_columns(
            dope_metrics(c, table, DopeOptions{args.dope_cutoff, args.dope_all_pairs}, args.threads));
      } else if (m.name == "energy") {
        EnergyMetricOptions options;
        options.forcefield = args.forcefield;
        options.engine = parse_energy_engine(args.engine);
        options.threads = args.threads;
        result.table.append_columns(energy_metrics(c, options));
      }
      result.metrics.push_back(m.argument.empty() ? m.name : m.name + ":" + m.argument);
      result.seconds[m.name] = seconds_since(start);
    } catch (const InputError& e) {
      // Asked for by name: an error. Among the defaults: left out, saying why.
      if (!defaults) throw;
      result.notes.push_back(m.name + ": not computed: " + e.what());
      if (m.name == "rama") result.rama.reset();
    }
  }
  return result;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buffer[64];
  if (v == std::floor(v) && std::abs(v) < 1e15)
    std::snprintf(buffer, sizeof buffer, "%.0f", v);
  else if (std::abs(v) >= 1e-3 && std::abs(v) < 1e6)
    std::snprintf(buffer, sizeof buffer, "%.4f", v);
  else
    std::snprintf(buffer, sizeof buffer, "%.6g", v);
  return buffer;
}

// Ramachandran scores sit near thresholds of 0.0005-0.002: six significant
// digits, so that the category can be checked from the CSV.
std::string precise_value(double v) {
  if (!std::isfinite(v)) return "nan";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", v);
  return buffer;
}

nlohmann::json json_value(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

void print_table(const Input& in, const ScoreResult& r) {
  const MetricTable& t = r.table;
  std::vector<std::vector<std::string>> lines;
  lines.push_back({"file", "frame"});
  lines.back().insert(lines.back().end(), t.columns.begin(), t.columns.end());
  for (std::size_t f = 0; f < t.rows.size(); ++f) {
    lines.push_back({in.frame_file[f], std::to_string(in.frame_index[f])});
    for (double v : t.rows[f]) lines.back().push_back(format_value(v));
  }
  const std::vector<ColumnSummary> summary = summarise(t);
  for (const char* stat : {"mean", "min", "max"}) {
    lines.push_back({stat, ""});
    for (const ColumnSummary& s : summary)
      lines.back().push_back(format_value(stat[1] == 'e' ? s.mean : stat[1] == 'i' ? s.min : s.max));
  }
  std::vector<std::size_t> width(lines.front().size(), 0);
  for (const auto& line : lines)
    for (std::size_t k = 0; k < line.size(); ++k) width[k] = std::max(width[k], line[k].size());
  for (std::size_t l = 0; l < lines.size(); ++l) {
    if (l == lines.size() - 3) std::printf("\n");  // the summary, apart
    std::string text;
    for (std::size_t k = 0; k < lines[l].size(); ++k) {
      const std::string& cell = lines[l][k];
      const std::string pad(width[k] - cell.size(), ' ');
      text += (k == 0 ? cell + pad : "  " + pad + cell);  // file left-aligned, numbers right-aligned
    }
    std::printf("%s\n", text.c_str());
  }
  for (const std::string& note : r.notes) std::fprintf(stderr, "note: %s\n", note.c_str());
}

void print_csv(const Input& in, const ScoreResult& r) {
  std::string header = "file,frame";
  for (const std::string& c : r.table.columns) {
    header += ',';
    header += c;
  }
  std::printf("%s\n", header.c_str());
  for (std::size_t f = 0; f < r.table.rows.size(); ++f) {
    std::string line = in.frame_file[f] + "," + std::to_string(in.frame_index[f]);
    for (double v : r.table.rows[f]) {
      line += ',';  // not `"," + string`: GCC 12 warns falsely (-Wrestrict) on it
      line += format_value(v);
    }
    std::printf("%s\n", line.c_str());
  }
  for (const std::string& note : r.notes) std::fprintf(stderr, "note: %s\n", note.c_str());
}

void print_json(const ScoreArgs& args, const Input& in, const ScoreResult& r) {
  nlohmann::json doc = {{"command", "score"},
                        {"inputs", args.inputs},
                        {"atoms", in.conformers.atom_count()},
                        {"metrics", r.metrics},
                        {"columns", r.table.columns}};
  nlohmann::json frames = nlohmann::json::array();
  for (std::size_t f = 0; f < r.table.rows.size(); ++f) {
    nlohmann::json row = {{"file", in.frame_file[f]}, {"frame", in.frame_index[f]}};
    for (std::size_t k = 0; k < r.table.columns.size(); ++k) row[r.table.columns[k]] = json_value(r.table.rows[f][k]);
    frames.push_back(std::move(row));
  }
  doc["frames"] = std::move(frames);
  nlohmann::json summary = nlohmann::json::object();
  for (const ColumnSummary& s : summarise(r.table))
    summary[s.name] = {{"mean", json_value(s.mean)},
                       {"min", json_value(s.min)},
                       {"max", json_value(s.max)},
                       {"finite", s.finite},
                       {"not_finite", s.not_finite}};
  doc["summary"] = std::move(summary);
  doc["notes"] = r.notes;
  doc["seconds"] = r.seconds;
  std::printf("%s\n", doc.dump(1).c_str());
}

// frame,file,chain,res_seq,ins_code,res_name,phi,psi,omega (+ Ramachandran).
void write_per_residue(const std::string& path, const Input& in, const ScoreResult& r) {
  const std::vector<ResidueBackbone> backbone = backbone_of(in.conformers);
  AtomicFile file(path);
  std::ostream& out = file.stream();
  out << "frame,file,chain,res_seq,ins_code,res_name,phi,psi,omega";
  if (r.rama) out << ",rama_class,rama_score,rama_category";
  out << "\n";
  for (std::size_t f = 0; f < in.conformers.frame_count; ++f) {
    const BackboneDihedrals d = backbone_dihedrals(backbone, in.conformers.frame(f));
    std::vector<ResidueRamachandran> rama;
    if (r.rama) rama = ramachandran_residues(backbone, d, *r.rama);
    for (std::size_t i = 0; i < backbone.size(); ++i) {
      const ResidueBackbone& b = backbone[i];
      out << in.frame_index[f] << ',' << in.frame_file[f] << ',' << b.chain << ',' << b.res_seq << ','
          << (b.ins_code == ' ' ? std::string() : std::string(1, b.ins_code)) << ',' << b.res_name << ','
          << format_value(d.phi[i]) << ',' << format_value(d.psi[i]) << ',' << format_value(d.omega[i]);
      if (r.rama)
        out << ',' << to_string(rama[i].cls) << ',' << precise_value(rama[i].score) << ','
            << to_string(rama[i].category);
      out << '\n';
    }
  }
  file.commit();
}

void run_score(const ScoreArgs& args) {
  if (!args.per_residue.empty()) {
    std::vector<std::string> inputs = args.inputs;
    inputs.push_back(args.topology);
    check_output_is_not_input(args.per_residue, inputs);
    check_regular_output(args.per_residue);
  }
  const auto start = std::chrono::steady_clock::now();
  const Input in = read_inputs(args);
  const double read_seconds = seconds_since(start);
  ScoreResult result = compute(args, in);
  result.seconds["read"] = read_seconds;
  if (!args.per_residue.empty()) write_per_residue(args.per_residue, in, result);
  if (args.json)
    print_json(args, in, result);
  else if (args.csv)
    print_csv(in, result);
  else
    print_table(in, result);
}

}  // namespace

void add_score_command(CLI::App& app) {
  auto args = std::make_shared<ScoreArgs>();
  CLI::App* cmd =
      app.add_subcommand("score", "Quality metrics of structures or trajectories, one row per frame, with a summary.");
  cmd->add_option("files", args->inputs,
                  "Structures or trajectories (PDB, mmCIF, DCD, XTC) of one topology; their frames are "
                  "concatenated")
      ->required();
  cmd->add_option("--top", args->topology, "Topology (PDB/mmCIF) for DCD/XTC inputs");
  cmd->add_option("--atoms", args->atoms,
                  "Score only these atoms (N,CA,CB,C,O, backbone, heavy, protein, all; default: every atom)");
  cmd->add_option("--metrics", args->metrics,
                  "Comma-separated: rmsd[:REF] (REF: frame index of the input, default 0, or a structure "
                  "file matched by chain, residue number and atom name), geometry, rama, dope, energy. "
                  "Default: geometry,rama,dope,energy, leaving out (with a note) those whose reference data "
                  "are missing");
  auto* json = cmd->add_flag("--json", args->json, "Print one JSON document (rows, summary, notes)");
  cmd->add_flag("--csv", args->csv, "Print the per-frame rows as CSV (nan for undefined values)")->excludes(json);
  cmd->add_option("--per-residue", args->per_residue,
                  "Write phi/psi/omega (and the Ramachandran class, score and category) per residue and "
                  "frame to this CSV file");
  add_threads_option(cmd, args->threads, "Threads (0: every core)");
  cmd->add_option("--data-dir", args->data_dir,
                  "Folder of the reference tables (rama8000/, dope/); then $MOLEARN_DATA, the installed "
                  "share folder, ../shared/data");
  cmd->add_option("--chain-ends", args->chain_ends,
                  "Where chains end: chains (chain identifiers; right for decoded structures whose bonds "
                  "are stretched) or geometry (C-N > 2 A in the first frame)")
      ->check(CLI::IsMember({"chains", "geometry"}))
      ->capture_default_str();
  cmd->add_option("--dope-cutoff", args->dope_cutoff, "DOPE pair cutoff in A")
      ->check(positive_number())
      ->capture_default_str();
  cmd->add_flag("--dope-all-pairs", args->dope_all_pairs,
                "DOPE over pairs inside one residue too (IMP's pair score), not only MODELLER's assess_dope");
  cmd->add_option("--engine", args->engine, "Energy engine: auto (torch where it models the system), torch, openmm")
      ->check(CLI::IsMember({"auto", "torch", "openmm"}))
      ->capture_default_str();
  cmd->add_option("--forcefield", args->forcefield,
                  "Force-field XML files for energy and ideal geometry (default amber14/protein.ff14SB.xml)");
  cmd->footer(
      "Examples:\n"
      "  molearn score path.pdb\n"
      "  molearn score traj.dcd --top top.pdb --metrics rmsd:0,geometry,rama --json\n"
      "  molearn score decoded.pdb --metrics rmsd:crystal.pdb,dope --csv > scores.csv\n"
      "  molearn score a.dcd b.dcd --top top.pdb --per-residue residues.csv\n"
      "Undefined values (a NaN coordinate, nothing to measure) print as nan, null in JSON.");
  cmd->callback([args] { run_score(*args); });
}

}  // namespace molearn::cli
