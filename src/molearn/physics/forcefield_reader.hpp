// Reads OpenMM force-field XML files (the format of OpenMM's Python
// ForceField class; OpenMM's C++ library has no reader of its own).
#pragma once

#include <string>
#include <vector>

#include "molearn/physics/forcefield.hpp"

namespace molearn {

// The force field molearn uses when none is given, as Python molearn's
// physics loss (whose amber14-all.xml adds only nucleic acids and lipids).
inline const std::vector<std::string> kDefaultForceField = {"amber14/protein.ff14SB.xml"};

// Folder of OpenMM's force-field files (Debian: python3-simtk's app/data).
std::string forcefield_data_dir();

// Finds a force-field file as OpenMM's Python layer does: the path as given,
// else relative to forcefield_data_dir(). Throws InputError when neither exists.
std::string find_forcefield_file(const std::string& name);

// Reads and merges `files` in order, as openmm.app.ForceField(*files) does:
// <Include> files are read too; atom types of every file come first, then
// residue templates, then force definitions. Supported: <AtomTypes>,
// <Residues>, <HarmonicBondForce>, <HarmonicAngleForce>,
// <PeriodicTorsionForce> (<Proper>, <Improper>, ordering attribute),
// <NonbondedForce>, <GBSAOBCForce>, and implicit/obc2.xml's script. Anything
// else that changes energies (other forces, other <Script>s) is refused.
// Throws FormatError naming the file and line for invalid XML, missing
// attributes or sections, and unsupported content; InputError for a missing file.
ForceField read_forcefield(const std::vector<std::string>& files);

}  // namespace molearn
