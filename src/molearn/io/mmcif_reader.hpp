// Reader of mmCIF files (one or several models) through gemmi.
#pragma once

#include <string>
#include <vector>

#include "molearn/io/trajectory_reader.hpp"

namespace molearn {

// mmCIF files of conformer ensembles are small, so the whole file is parsed
// at once by gemmi and models are handed out one by one.
class MmcifReader : public TrajectoryReader {
 public:
  explicit MmcifReader(std::string path);

  const std::string& path() const override { return path_; }
  std::size_t atom_count() const override { return topology_.atom_count(); }
  bool read(Frame& frame) override;
  std::optional<std::size_t> frame_count() const override { return frames_.size(); }

  const Topology& topology() const { return topology_; }

 private:
  std::string path_;
  Topology topology_;
  std::vector<Frame> frames_;
};

}  // namespace molearn
