// `molearn simulate`: molecular dynamics of a protein with OpenMM, to make
// the conformational ensembles molearn learns from.
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include <OpenMM.h>  // complete OpenMM::System for the unique_ptr build_system returns

#include "commands.hpp"
#include "molearn/core/atomic_file.hpp"
#include "molearn/core/error.hpp"
#include "molearn/data/polymer.hpp"
#include "molearn/data/selection.hpp"
#include "molearn/io/dcd_reader.hpp"
#include "molearn/io/dcd_writer.hpp"
#include "molearn/io/pdb_writer.hpp"
#include "molearn/io/residue_names.hpp"
#include "molearn/io/trajectory_reader.hpp"
#include "molearn/physics/add_hydrogens.hpp"
#include "molearn/physics/forcefield_reader.hpp"
#include "molearn/physics/md_simulation.hpp"
#include "molearn/physics/pdb_names.hpp"
#include "molearn/physics/system_builder.hpp"
#include "molearn/physics/template_matching.hpp"
#include "option_checks.hpp"
#include "physics_options.hpp"
#include "progress.hpp"

namespace molearn::cli {

namespace {

namespace fs = std::filesystem;

std::atomic<bool> g_stop{false};
extern "C" void request_simulation_stop(int) { g_stop.store(true); }

struct SimulateArgs {
  std::string input;
  std::string output;
  std::string forcefield = "amber14";
  std::string implicit = "none";
  MdOptions md;
  std::int64_t steps = 5000;
  int report_every = 500;
  double ph = 7.0;
  bool strip_water = false;
  bool resume = false;
};

// Short names for the force fields users ask for most; anything else is a
// list of OpenMM XML files.
std::vector<std::string> forcefield_files(const std::string& name) {
  static const std::map<std::string, std::vector<std::string>> named = {
      {"amber14", {"amber14/protein.ff14SB.xml"}},
      {"amber99sbildn", {"amber99sbildn.xml"}},
      {"amber99sb", {"amber99sb.xml"}},
      {"amber03", {"amber03.xml"}},
  };
  if (const auto it = named.find(name); it != named.end()) return it->second;
  std::vector<std::string> files;
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t comma = std::min(name.find(',', start), name.size());
    if (comma > start) files.push_back(name.substr(start, comma - start));
    start = comma + 1;
  }
  return files;
}

// Monatomic ions under the names PDB, Amber, CHARMM and GROMACS files use
// (NA, Na+, SOD, CL, Cl-, CLA, ...), compared in upper case without charge.
bool is_ion(std::string_view res_name) {
  static const std::set<std::string, std::less<>> ions = {"NA",  "CL",  "K",   "MG",  "CA",  "ZN",  "LI",
                                                          "RB",  "CS",  "F",   "BR",  "I",   "SOD", "CLA",
                                                          "POT", "CAL", "CES", "LIT", "IOD", "MG2", "ZN2"};
  std::string name;
  for (char c : res_name)
    if (c != '+' && c != '-') name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return ions.count(name) > 0;
}

struct Structure {
  Topology topology;
  std::vector<float> xyz;
};

Structure read_structure(const std::string& path, bool strip_water) {
  Structure s;
  s.topology = read_topology(path);
  auto reader = open_trajectory(path, &s.topology);
  Frame frame;
  if (!reader->read(frame)) throw FormatError(path + ": contains no structure");
  if (Frame next; reader->read(next))
    std::fprintf(stderr, "note: %s holds several models; simulating the first\n", path.c_str());
  std::vector<std::size_t> kept;
  std::size_t waters = 0, ions = 0;
  for (const Residue& r : s.topology.residues()) {
    const Atom& a = s.topology.atom(r.first_atom);
    const bool water = is_water(a.res_name),
               ion = r.atom_count == 1 && !is_amino_acid(a.res_name) && is_ion(a.res_name);
    waters += water;
    ions += ion;
    if (strip_water && (water || ion)) continue;
    for (std::size_t k = 0; k < r.atom_count; ++k) kept.push_back(r.first_atom + k);
  }
  if (!strip_water && waters + ions > 0)
    throw InputError(path + ": holds " + std::to_string(waters) + " water molecules and " + std::to_string(ions) +
                     " ions; molearn simulate runs in vacuum or implicit solvent (--implicit obc2): add --strip-water "
                     "to remove them");
  if (strip_water && waters + ions > 0) std::printf("removed %zu water molecules and %zu ions\n", waters, ions);
  if (kept.empty()) throw InputError(path + ": no atoms left to simulate");
  s.topology = s.topology.subset(kept);
  for (std::size_t i : kept)
    for (int k = 0; k < 3; ++k) s.xyz.push_back(frame.xyz[3 * i + k]);
  return s;
}

// Residues missing between two residues of one chain would be simulated as a
// peptide bond stretched over the gap, or as two free ends: refuse both.
void check_chains_are_complete(const std::string& path, const Topology& topology, std::span<const float> xyz,
                               const std::vector<ResidueTermini>& termini) {
  const std::vector<Residue> residues = topology.residues();
  auto find = [&](const Residue& r, const char* name) -> std::optional<std::size_t> {
    for (std::size_t i = r.first_atom; i < r.first_atom + r.atom_count; ++i)
      if (topology.atom(i).name == name) return i;
    return std::nullopt;
  };
  for (std::size_t r = 0; r + 1 < residues.size(); ++r) {
    const Atom& a = topology.atom(residues[r].first_atom);
    const Atom& b = topology.atom(residues[r + 1].first_atom);
    if (a.chain != b.chain || !is_amino_acid(a.res_name) || !is_amino_acid(b.res_name)) continue;
    if (!termini[r].c_terminal || !termini[r + 1].n_terminal) continue;
    std::string gap = "C or N missing";
    const auto c = find(residues[r], "C"), n = find(residues[r + 1], "N");
    if (c && n) {
      double d2 = 0;
      for (int k = 0; k < 3; ++k) d2 += std::pow(xyz[3 * *c + k] - xyz[3 * *n + k], 2);
      char text[48];
      std::snprintf(text, sizeof text, "C-N %.1f A", std::sqrt(d2));
      gap = text;
    }
    throw InputError(path + ": chain '" + a.chain + "' breaks between " + a.res_name + " " + std::to_string(a.res_seq) +
                     " and " + b.res_name + " " + std::to_string(b.res_seq) + " (" + gap +
                     "): residues are missing. molearn simulate needs complete chains: model the missing residues "
                     "(e.g. with MODELLER or PDBFixer), or give each piece its own chain identifier");
  }
}

// A residue neither hydrogens.xml nor the force field knows (a ligand, a
// modified residue) would otherwise surface as a template mismatch of its
// neighbour, whose chain seems to end there.
void check_residues_are_known(const std::string& path, const Topology& topology, const ForceField& ff) {
  for (const Residue& r : topology.residues()) {
    const Atom& a = topology.atom(r.first_atom);
    const std::string standard = PdbNames::standard().residue(a.res_name);
    if (HydrogenDefinitions::standard().find(standard) || ff.find_template(a.res_name) || ff.find_template(standard))
      continue;
    throw InputError(path + ": " + describe_residue(a) + ": neither the force field (" + joined(ff.files) +
                     ") nor OpenMM's hydrogens.xml knows residue " + a.res_name +
                     "; give a force-field XML file with its template (--forcefield amber14/protein.ff14SB.xml,"
                     "my_ligand.xml) or remove it");
  }
}

// A file beside the trajectory: traj.dcd -> traj.pdb (its topology), traj.chk.
std::string beside_output(const std::string& output, const char* extension) {
  return fs::path(output).replace_extension(extension).string();
}
std::string topology_path_for(const std::string& output) { return beside_output(output, ".pdb"); }
std::string checkpoint_path_for(const std::string& output) { return beside_output(output, ".chk"); }

void check_outputs(const SimulateArgs& args) {
  const std::string ext = fs::path(args.output).extension().string();
  if (ext != ".dcd") throw InputError(args.output + ": the trajectory is written as DCD; name it *.dcd");
  const fs::path folder = fs::path(args.output).parent_path();
  if (!folder.empty() && !fs::is_directory(folder))
    throw InputError(args.output + ": the folder " + folder.string() + " does not exist");
  for (const std::string& out : {args.output, topology_path_for(args.output), checkpoint_path_for(args.output)}) {
    check_output_is_not_input(out, {args.input});
    check_regular_output(out);
  }
}

std::string format_duration(double seconds) {
  char text[32];
  if (seconds < 120)
    std::snprintf(text, sizeof text, "%.0f s", seconds);
  else if (seconds < 7200)
    std::snprintf(text, sizeof text, "%.0f min", seconds / 60);
  else
    std::snprintf(text, sizeof text, "%.1f h", seconds / 3600);
  return text;
}

void write_topology(const std::string& path, const Topology& topology, std::vector<float> xyz) {
  PdbWriter writer(path, topology);
  Frame frame;
  frame.xyz = std::move(xyz);
  writer.write(frame);
  writer.close();
}

// The checkpoint beside the trajectory: a text header saying which frame it
// belongs to, then OpenMM's own binary checkpoint.
constexpr const char* kCheckpointMagic = "molearn simulate checkpoint 1";

// What must not change between a run and its --resume.
std::string run_identity(const SimulateArgs& args) {
  char text[512];
  std::snprintf(text, sizeof text,
                "input=%s forcefield=%s implicit=%s temperature=%g timestep=%g friction=%g hydrogen-mass=%g ph=%g "
                "strip-water=%d report-every=%d",
                fs::absolute(args.input).lexically_normal().string().c_str(), args.forcefield.c_str(),
                args.implicit.c_str(), args.md.temperature_k, args.md.timestep_fs, args.md.friction_per_ps,
                args.md.hydrogen_mass, args.ph, args.strip_water ? 1 : 0, args.report_every);
  return text;
}

// A fingerprint of a frame's coordinates (FNV-1a over the float bytes, which
// the DCD stores unchanged), so that a checkpoint is only ever resumed with
// the trajectory it was written with.
std::string frame_fingerprint(const std::vector<float>& xyz) {
  std::uint64_t hash = 14695981039346656037ull;
  const auto* bytes = reinterpret_cast<const unsigned char*>(xyz.data());
  for (std::size_t i = 0; i < xyz.size() * sizeof(float); ++i) hash = (hash ^ bytes[i]) * 1099511628211ull;
  char text[24];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

void save_checkpoint(const std::string& path, MolecularDynamics& md, std::size_t frames, const Frame& last,
                     const std::string& identity) {
  AtomicFile file(path);
  file.stream() << kCheckpointMagic << "\nframes " << frames << "\natoms " << last.atom_count() << "\nstep "
                << md.steps_done() << "\nlast-frame " << frame_fingerprint(last.xyz) << "\nrun " << identity << "\n";
  md.save_checkpoint(file.stream());
  file.commit();
}

struct CheckpointHeader {
  std::size_t frames = 0;
  std::string last_frame;
};

// Loads the checkpoint into `md` after checking that it belongs to this run.
CheckpointHeader load_checkpoint(const std::string& path, MolecularDynamics& md, std::size_t atoms,
                                 const std::string& identity) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": no checkpoint to resume from (it is written with every frame)");
  std::string magic, key_frames, key_atoms, key_step, key_last, key_run, saved_identity;
  CheckpointHeader header;
  std::size_t saved_atoms = 0;
  long long step = 0;
  std::getline(in, magic);
  in >> key_frames >> header.frames >> key_atoms >> saved_atoms >> key_step >> step >> key_last >> header.last_frame >>
      key_run;
  in.get();  // the space before the run's identity
  std::getline(in, saved_identity);
  if (!in || magic != kCheckpointMagic || key_frames != "frames" || key_atoms != "atoms" || key_step != "step" ||
      key_last != "last-frame" || key_run != "run")
    throw FormatError(path + ": not a checkpoint of molearn simulate");
  if (saved_atoms != atoms)
    throw InputError(path + ": the checkpoint has " + std::to_string(saved_atoms) + " atoms, this system " +
                     std::to_string(atoms) + " (resume with the same input and options)");
  if (saved_identity != identity)
    throw InputError(path + ": written by a run with other input or options; resume with the same ones.\n  that run: " +
                     saved_identity + "\n  this run: " + identity);
  md.load_checkpoint(in);
  if (md.steps_done() != step) throw FormatError(path + ": the checkpoint's step count does not match its header");
  return header;
}

// Where the frames of the run to resume are: its trajectory when it stopped
// cleanly (Ctrl-C, SIGTERM), else the temporary file of a run killed with
// kill -9 on this host (frames are flushed there, not synced, before each
// checkpoint). The first whose first `frames` frames end with the frame the
// checkpoint was written after; opened, so that it stays readable when the
// new trajectory's writer clears stale temporary files.
struct ResumeFrames {
  std::unique_ptr<TrajectoryReader> reader;
  std::string path;
  bool abandoned = false;  // a killed run's temporary file
};

// Whether the first `checkpoint.frames` frames of `reader` are the
// checkpoint's run's (the last of them is the one it fingerprinted); the
// trajectory of a clean stop must hold exactly those frames. Reads only that
// frame, and leaves the reader at frame 0 for the copy.
bool holds_checkpoint_frames(DcdReader& reader, const CheckpointHeader& checkpoint, std::size_t atoms, bool exactly) {
  const std::optional<std::size_t> count = reader.frame_count();
  if (reader.atom_count() != atoms || !count || *count < checkpoint.frames || (exactly && *count != checkpoint.frames))
    return false;
  if (checkpoint.frames == 0) return true;
  for (std::size_t i = 0; i + 1 < checkpoint.frames; ++i)
    if (!reader.skip()) return false;
  Frame last;
  const bool same = reader.read(last) && frame_fingerprint(last.xyz) == checkpoint.last_frame;
  reader.rewind();
  return same;
}

ResumeFrames find_resume_frames(const std::string& output, const CheckpointHeader& checkpoint, std::size_t atoms) {
  std::vector<std::string> tried;
  auto accept = [&](const std::string& path, bool abandoned) -> std::optional<ResumeFrames> {
    tried.push_back(path);
    try {
      // A DCD by content: a temporary file's name (s.dcd.tmp.PID) has no .dcd extension.
      auto reader = std::make_unique<DcdReader>(path);
      if (!holds_checkpoint_frames(*reader, checkpoint, atoms, !abandoned)) return std::nullopt;
      return ResumeFrames{std::move(reader), path, abandoned};
    } catch (const Error&) {
      return std::nullopt;  // unreadable: not this run's frames
    }
  };
  if (fs::is_regular_file(output))
    if (auto found = accept(output, false)) return std::move(*found);
  for (const std::string& temporary : abandoned_temporaries(output))
    if (auto found = accept(temporary, true)) return std::move(*found);
  std::string names;
  for (const std::string& path : tried) names += (names.empty() ? "" : ", ") + path;
  throw InputError(output + ": no trajectory holds the " + std::to_string(checkpoint.frames) +
                   " frames the checkpoint was written after" + (names.empty() ? "" : " (looked in " + names + ")") +
                   ": they are not from the same run; start again without --resume");
}

// Copies the first checkpoint.frames frames of the earlier run into the new
// trajectory, flushed, so that a run killed again resumes from them too.
void copy_frames(ResumeFrames& earlier, const CheckpointHeader& checkpoint, DcdWriter& writer) {
  Frame frame;
  for (std::size_t i = 0; i < checkpoint.frames; ++i) {
    bool read = false;
    try {
      read = earlier.reader->read(frame);
    } catch (const FormatError& e) {
      // The check before read only the checkpoint's frame; a damaged one
      // before it shows here. The new trajectory's temporary file is dropped.
      throw InputError(std::string(e.what()) + "; the earlier run's frames are damaged, so it cannot be resumed: " +
                       "start again without --resume");
    }
    if (!read)
      throw InputError(earlier.path + ": holds " + std::to_string(i) + " frames, the checkpoint belongs to frame " +
                       std::to_string(checkpoint.frames));
    writer.write(frame);
  }
  writer.flush();
  if (earlier.abandoned) {
    std::error_code ignored;
    fs::remove(earlier.path, ignored);  // its frames are in the new trajectory now
  }
}

struct PreparedSystem {
  Topology topology;
  std::vector<float> xyz;
  std::unique_ptr<OpenMM::System> system;
};

// Reads the input, adds hydrogens and builds the system to simulate.
PreparedSystem prepare_system(const SimulateArgs& args) {
  Structure input = read_structure(args.input, args.strip_water);
  rename_terminal_oxygens(input.topology);
  const std::vector<ResidueTermini> termini = find_termini(input.topology, input.xyz);
  check_chains_are_complete(args.input, input.topology, input.xyz, termini);
  const ForceField ff = read_forcefield(forcefield_files(args.forcefield));
  check_residues_are_known(args.input, input.topology, ff);

  AddHydrogensOptions h_options;
  h_options.ph = args.ph;
  h_options.seed = static_cast<std::uint32_t>(args.md.seed);
  HydrogenatedStructure structure =
      add_missing_hydrogens(input.topology, input.xyz, termini, HydrogenDefinitions::standard(), h_options);
  for (const std::string& note : structure.notes) std::printf("  %s\n", note.c_str());
  // The trajectory's topology uses the standard names (HN -> H, HB1 -> HB3,
  // ...), as OpenMM's PDB reader gives them, so that other tools and
  // `molearn prepare --atoms` find the atoms they expect.
  for (Atom& atom : structure.topology.atoms()) atom.name = PdbNames::standard().atom(atom.res_name, atom.name);

  TemplateOptions t_options;
  t_options.termini = termini;
  const MatchedTopology matched = match_templates(ff, structure.topology, structure.xyz_angstrom, t_options);
  if (matched.size() != structure.topology.atom_count())
    throw InputError(args.input + ": the force field has no template for " + joined(matched.skipped));
  SystemOptions s_options;
  s_options.implicit_obc2 = args.implicit == "obc2";
  std::printf("%s: %zu atoms, %zu residues; %zu hydrogens added (OpenMM's hydrogens.xml rules, pH %g); %s%s\n",
              args.input.c_str(), structure.topology.atom_count(), structure.topology.residue_count(),
              structure.added.size(), args.ph, joined(ff.files).c_str(), s_options.implicit_obc2 ? " + OBC2" : "");
  if (!structure.added.empty() && !args.resume) {
    auto system = build_system(ff, matched, s_options);
    minimise_some_atoms(*system, structure.xyz_angstrom, structure.added, args.md.platform, args.md.threads);
  }

  PreparedSystem prepared{std::move(structure.topology), std::move(structure.xyz_angstrom),
                          build_system(ff, matched, s_options)};
  const std::vector<bool> hydrogens = hydrogen_atoms(ff, matched);
  const int constrained = constrain_bonds_to_hydrogens(*prepared.system, hydrogens);
  if (args.md.hydrogen_mass > 0) repartition_hydrogen_mass(*prepared.system, matched, hydrogens, args.md.hydrogen_mass);
  if (args.md.timestep_fs > 2.5 && args.md.hydrogen_mass < 1.5)
    std::fprintf(stderr, "warning: a %g fs step without --hydrogen-mass 1.5 or more is likely to blow up\n",
                 args.md.timestep_fs);
  std::printf("%d bonds to hydrogen constrained\n", constrained);
  return prepared;
}

void minimise_and_write_topology(const SimulateArgs& args, MolecularDynamics& md, const Topology& topology) {
  const double before = md.potential_energy();
  md.minimise();
  const double after = md.potential_energy();
  std::printf("energy before minimisation %.4f kJ/mol, after %.4f kJ/mol\n", before, after);
  if (!std::isfinite(after))
    throw Error(args.input + ": the energy is not finite after minimisation (overlapping atoms?)");
  const std::string topology_path = topology_path_for(args.output);
  write_topology(topology_path, topology, md.positions_angstrom());
  std::printf("wrote the minimised structure (the trajectory's topology) to %s\n", topology_path.c_str());
  std::fflush(stdout);
}

std::string progress_text(const SimulateArgs& args, MolecularDynamics& md, double energy, std::int64_t first_step,
                          std::chrono::steady_clock::time_point start) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto steps_here = static_cast<double>(md.steps_done() - first_step);
  const double ns_done = static_cast<double>(md.steps_done()) * args.md.timestep_fs * 1e-6;
  const double ns_per_day = steps_here * args.md.timestep_fs * 1e-6 / elapsed * 86400.0;
  const double eta = elapsed * static_cast<double>(args.steps - md.steps_done()) / steps_here;
  char text[200];
  std::snprintf(text, sizeof text, "step %lld/%lld (%.3f ns)  E %.1f kJ/mol  T %.0f K  %.1f ns/day  ETA %s",
                static_cast<long long>(md.steps_done()), static_cast<long long>(args.steps), ns_done, energy,
                md.temperature(), ns_per_day, format_duration(eta).c_str());
  return text;
}

// Langevin dynamics up to args.steps, a frame (and a checkpoint) every
// args.report_every steps; Ctrl-C or SIGTERM stops at the next chunk.
void run_dynamics(const SimulateArgs& args, MolecularDynamics& md, DcdWriter& writer) {
  const std::string checkpoint = checkpoint_path_for(args.output);
  g_stop.store(false);
  std::signal(SIGINT, request_simulation_stop);
  std::signal(SIGTERM, request_simulation_stop);
  ProgressLine progress;
  const auto start = std::chrono::steady_clock::now();
  const std::int64_t first_step = md.steps_done();
  const int chunk = std::min(args.report_every, 250);  // steps between looks at Ctrl-C
  std::int64_t last_frame_step = md.steps_done();
  auto finish = [&] {
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    progress.finish();
    writer.close();
  };
  while (md.steps_done() < args.steps && !g_stop.load()) {
    const std::int64_t next_frame = last_frame_step + args.report_every;
    bool broke_down = false;
    try {
      md.step(static_cast<int>(
          std::min<std::int64_t>({chunk, next_frame - md.steps_done(), args.steps - md.steps_done()})));
    } catch (const SimulationError&) {
      broke_down = true;  // NaN coordinates part way through a chunk
    }
    if (!broke_down && md.steps_done() < next_frame && md.steps_done() < args.steps) continue;
    const double energy = broke_down ? std::nan("") : md.potential_energy();
    Frame frame;
    if (!broke_down) frame.xyz = md.positions_angstrom();
    bool finite = std::isfinite(energy);
    for (float x : frame.xyz) finite = finite && std::isfinite(x) && std::abs(x) < 1e5f;
    if (!finite) {
      if (writer.frames_written() == 0)
        throw Error("the simulation blew up in its first " + std::to_string(md.steps_done()) +
                    " steps (non-finite energy or coordinates); nothing was written. Try a smaller --timestep, or "
                    "--hydrogen-mass 1.5 with a 4 fs step");
      finish();
      throw Error("the simulation blew up between step " + std::to_string(last_frame_step) + " and step " +
                  std::to_string(md.steps_done()) + " (non-finite energy or coordinates); the " +
                  std::to_string(writer.frames_written()) + " frames before it are in " + args.output +
                  ". Try a smaller --timestep, or --hydrogen-mass 1.5 with a 4 fs step");
    }
    if (md.steps_done() % args.report_every != 0) break;  // a final partial interval writes no frame
    writer.write(frame);
    writer.flush();  // the frame reaches the file before the checkpoint that counts it
    save_checkpoint(checkpoint, md, writer.frames_written(), frame, run_identity(args));
    last_frame_step = md.steps_done();
    progress.update(progress_text(args, md, energy, first_step, start), md.steps_done() == args.steps);
  }
  const bool interrupted = md.steps_done() < args.steps;
  finish();
  std::printf("%s%zu frames (every %d steps, %g ps) written to %s\n", interrupted ? "interrupted: " : "",
              writer.frames_written(), args.report_every, args.report_every * args.md.timestep_fs / 1000.0,
              args.output.c_str());
  if (interrupted) {
    std::printf("continue with the same command and --resume\n");
    throw Interrupted();
  }
}

void run_simulate(const SimulateArgs& args) {
  check_md_options(args.md);
  if (args.steps < 0) throw InputError("--steps must not be negative");
  if (args.report_every < 1) throw InputError("--report-every must be at least 1");
  if (args.implicit != "none" && args.implicit != "obc2") throw InputError("--implicit must be none or obc2");
  if (args.ph > 8.5)
    throw InputError(
        "--ph above 8.5 would deprotonate cysteines (CYM) and, above 10, lysines (LYN), whose hydrogens "
        "molearn cannot yet match to the force field's templates: not supported yet");
  if (args.steps > 0 && args.steps < args.report_every)
    throw InputError("--steps " + std::to_string(args.steps) + " is less than --report-every " +
                     std::to_string(args.report_every) + ": no frame would be written");
  if (args.steps % args.report_every != 0)
    std::fprintf(stderr, "note: the last %lld steps (after the last multiple of --report-every) write no frame\n",
                 static_cast<long long>(args.steps % args.report_every));
  check_outputs(args);
  if (args.resume) {
    // A run killed with kill -9 left its frames in a temporary file instead.
    const bool frames = fs::is_regular_file(args.output) || !abandoned_temporaries(args.output).empty();
    for (const std::string& needed : {args.output, topology_path_for(args.output), checkpoint_path_for(args.output)})
      if (!fs::is_regular_file(needed) && !(needed == args.output && frames))
        throw InputError(needed + ": not found; --resume continues a run that wrote it (run without --resume)");
  }

  PreparedSystem prepared = prepare_system(args);
  const std::size_t atoms = prepared.topology.atom_count();
  MolecularDynamics md(std::move(prepared.system), prepared.xyz, args.md);
  std::printf("platform %s\n", md.platform_name().c_str());
  if (!args.resume) {
    // A checkpoint of an earlier run under this name must never be resumed
    // with this run's trajectory.
    std::error_code ec;
    fs::remove(checkpoint_path_for(args.output), ec);
    minimise_and_write_topology(args, md, prepared.topology);
  }
  if (args.steps == 0) return;

  DcdWriterOptions dcd;
  dcd.timestep_ps = args.md.timestep_fs / 1000.0;
  dcd.start_step = args.report_every;
  dcd.step_interval = args.report_every;
  CheckpointHeader checkpoint;
  ResumeFrames earlier;
  if (args.resume) {
    checkpoint = load_checkpoint(checkpoint_path_for(args.output), md, atoms, run_identity(args));
    if (md.steps_done() != static_cast<std::int64_t>(checkpoint.frames) * args.report_every)
      throw InputError(checkpoint_path_for(args.output) + ": written at step " + std::to_string(md.steps_done()) +
                       " after " + std::to_string(checkpoint.frames) + " frames, which does not fit --report-every " +
                       std::to_string(args.report_every) + " (resume with the same options)");
    earlier = find_resume_frames(args.output, checkpoint, atoms);  // before the writer clears stale temporaries
    // The writer's clean-up removes a dead writer's temporary file untouched
    // for a minute: touched, the killed run's frames stay on disk until the
    // copy below is flushed, so a resume that fails again can still find them.
    if (earlier.abandoned) {
      std::error_code ignored;
      fs::last_write_time(earlier.path, fs::file_time_type::clock::now(), ignored);
    }
  }
  DcdWriter writer(args.output, atoms, dcd);
  if (args.resume) {
    const std::size_t frames = checkpoint.frames;
    copy_frames(earlier, checkpoint, writer);
    std::printf("resuming at step %lld after %zu frames%s\n", static_cast<long long>(md.steps_done()), frames,
                earlier.abandoned ? (" (recovered from " + earlier.path + ", left by a killed run)").c_str() : "");
    if (md.steps_done() >= args.steps) {
      writer.close();
      std::printf("already at step %lld of %lld: nothing to do (raise --steps to go on)\n",
                  static_cast<long long>(md.steps_done()), static_cast<long long>(args.steps));
      return;
    }
  } else {
    md.start_dynamics();
  }
  std::fflush(stdout);
  run_dynamics(args, md, writer);
}

}  // namespace

void add_simulate_command(CLI::App& app) {
  auto args = std::make_shared<SimulateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "simulate",
      "Molecular dynamics with OpenMM: add missing hydrogens, minimise, then Langevin dynamics at a temperature; "
      "writes a DCD trajectory and its topology (a PDB beside it, the minimised structure).");
  cmd->add_option("input", args->input, "Structure to simulate (PDB or mmCIF; the first model)")->required();
  cmd->add_option("-o,--output", args->output, "Trajectory to write (.dcd); its topology goes to the same name .pdb")
      ->required();
  cmd->add_option("--forcefield,--ff", args->forcefield,
                  "amber14 (protein.ff14SB), amber99sbildn, amber99sb, amber03, or OpenMM XML files separated by "
                  "commas, looked up in the current folder, then in " +
                      forcefield_data_dir())
      ->capture_default_str();
  cmd->add_option("--implicit", args->implicit, "Implicit solvent: none (vacuum) or obc2 (generalised Born, OBC2)")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "obc2"}));
  cmd->add_option("--temperature", args->md.temperature_k, "Temperature, K")
      ->capture_default_str()
      ->check(number_in_range(1, 2000));
  cmd->add_option("--timestep", args->md.timestep_fs, "Time step, fs (4 needs --hydrogen-mass 1.5)")
      ->capture_default_str()
      ->check(number_in_range(0.01, 5));
  cmd->add_option("--friction", args->md.friction_per_ps, "Langevin friction, 1/ps")
      ->capture_default_str()
      ->check(number_in_range(0.001, 1000));
  cmd->add_option("--hydrogen-mass", args->md.hydrogen_mass,
                  "Mass of hydrogens in daltons, taken from the atoms they are bonded to (0: unchanged)")
      ->capture_default_str()
      ->check(number_in_range(0, 5));
  cmd->add_option("--steps", args->steps, "Steps of dynamics (0: only add hydrogens and minimise)")
      ->capture_default_str()
      ->check(number_in_range(0, 1e12));
  cmd->add_option("--report-every", args->report_every, "Steps between frames written")
      ->capture_default_str()
      ->check(number_in_range(1, 1e9));
  cmd->add_option("--seed", args->md.seed,
                  "Seed of the thermostat, the initial velocities and hydrogen placement (0: OpenMM picks one, not "
                  "reproducible)")
      ->capture_default_str()
      ->check(non_negative_number());
  cmd->add_option("--ph", args->ph, "pH for protonation states (hydrogens.xml's maxph)")
      ->capture_default_str()
      ->check(number_in_range(0, 14));
  cmd->add_flag("--strip-water", args->strip_water, "Remove water and monatomic ions first");
  cmd->add_flag("--resume", args->resume,
                "Continue an interrupted run from the checkpoint beside its trajectory (OUTPUT.chk, written with every "
                "frame), with the same input and options; a larger --steps extends a finished run");
  cmd->add_option("--platform", args->md.platform, "OpenMM platform: auto (CPU), CPU or Reference")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "CPU", "Reference"}));
  add_threads_option(cmd, args->md.threads, "Threads of the CPU platform (0: every core)");
  cmd->footer(
      "Bonds to hydrogen are constrained. The same --seed gives the same trajectory on the Reference platform; "
      "on the CPU platform only with the same --threads on the same machine, as far as OpenMM allows.\n"
      "Ctrl-C (or SIGTERM) stops within a few hundred steps and leaves a valid DCD of the frames so far; --resume "
      "continues it exactly where the last frame was written. A run killed outright on this host (kill -9, a "
      "cancelled job) keeps its frames in OUTPUT.dcd.tmp.PID; --resume recovers them from there.\n\n"
      "Examples:\n"
      "  molearn simulate protein.pdb -o traj.dcd --steps 50000 --report-every 500\n"
      "  molearn simulate solvated.pdb --strip-water --implicit obc2 -o traj.dcd --temperature 350\n"
      "  molearn simulate villin.pdb --strip-water --timestep 4 --hydrogen-mass 1.5 --temperature 450 -o villin.dcd\n"
      "  molearn simulate model.pdb -o min.dcd --steps 0   # only add hydrogens and minimise (writes min.pdb)");
  cmd->callback([args] { run_simulate(*args); });
}

}  // namespace molearn::cli
