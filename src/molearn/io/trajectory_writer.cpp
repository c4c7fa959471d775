#include "molearn/io/trajectory_writer.hpp"

#include "molearn/core/error.hpp"
#include "molearn/io/dcd_writer.hpp"
#include "molearn/io/pdb_writer.hpp"
#include "molearn/io/trajectory_reader.hpp"

namespace molearn {

namespace {

template <typename Writer>
class WriterAdapter : public TrajectoryWriter {
 public:
  template <typename... Args>
  explicit WriterAdapter(Args&&... args) : writer_(std::forward<Args>(args)...) {}
  void write(const Frame& frame) override { writer_.write(frame); }
  void close() override { writer_.close(); }

 private:
  Writer writer_;
};

}  // namespace

std::unique_ptr<TrajectoryWriter> open_trajectory_writer(const std::string& path, const Topology& topology) {
  // format_from_path names what molearn reads (gzipped PDB and mmCIF too); the
  // writers write plain PDB and DCD only, and a name ending in .gz would
  // promise a compression that is not there.
  const std::string ext = lower_case_extension(path);
  if (ext != ".pdb" && ext != ".ent" && ext != ".dcd")
    throw InputError(path + ": can write .pdb and .dcd files only, uncompressed (got '" + ext + "')");
  switch (format_from_path(path)) {
    case TrajectoryFormat::Pdb:
      return std::make_unique<WriterAdapter<PdbWriter>>(path, topology);
    case TrajectoryFormat::Dcd:
      return std::make_unique<WriterAdapter<DcdWriter>>(path, topology.atom_count());
    default:
      throw InputError(path + ": can write .pdb and .dcd files only");
  }
}

}  // namespace molearn
