// A force field as OpenMM's XML files define it: atom types, residue
// templates, and the parameter definitions of each force. Pure data plus the
// type-matching rule; read_forcefield() (forcefield_reader.hpp) fills it.
//
// Units are OpenMM's: nm, rad, kJ/mol, elementary charges, daltons.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace molearn {

// One <Type> of <AtomTypes>.
struct AtomType {
  std::string name;
  int atom_class = -1;  // index into ForceField::classes
  std::string element;  // element symbol; empty for virtual sites
  double mass = 0;      // daltons
};

struct TemplateAtom {
  std::string name;
  int type = -1;                 // index into ForceField::types
  std::optional<double> charge;  // <Atom charge="...">, used with <UseAttributeFromResidue>
};

// One <Residue> of <Residues>.
struct ResidueTemplate {
  std::string name;
  std::vector<TemplateAtom> atoms;
  std::vector<std::array<int, 2>> bonds;  // template atom indices
  std::vector<int> external_bonds;        // template atom indices
  int override_level = 0;
  bool has_virtual_sites = false;
  std::string source;  // the file that defined it

  int find_atom(std::string_view atom_name) const;  // -1 when absent
};

// Which atom types one position of a parameter definition accepts: any type
// (written type="" or class="", the wildcard), every type of a class, or a
// single type.
struct TypeFilter {
  enum class Kind { Any, Class, Type };
  Kind kind = Kind::Any;
  int id = -1;  // class index (Kind::Class) or type index (Kind::Type)
};

struct BondDefinition {
  std::array<TypeFilter, 2> atoms;
  double length = 0;  // nm
  double k = 0;       // kJ/mol/nm^2
};

struct AngleDefinition {
  std::array<TypeFilter, 3> atoms;
  double angle = 0;  // rad
  double k = 0;      // kJ/mol/rad^2
};

// k (1 + cos(n phi - phase)).
struct PeriodicTerm {
  int periodicity = 1;
  double phase = 0;  // rad
  double k = 0;      // kJ/mol
};

// How the atoms of a matched improper torsion are put in order: the
// "ordering" attribute of <PeriodicTorsionForce> (OpenMM's rules, see
// bonded_terms.cpp).
enum class ImproperOrdering { Default, Charmm, Amber, Smirnoff };

struct TorsionDefinition {
  std::array<TypeFilter, 4> atoms;  // impropers: atoms[0] is the central atom
  std::vector<PeriodicTerm> terms;
  ImproperOrdering ordering = ImproperOrdering::Default;  // impropers only

  bool has_wildcard() const;
};

// Lennard-Jones parameters (and possibly a charge) of one atom type.
struct NonbondedTypeParameters {
  double sigma = 0;              // nm
  double epsilon = 0;            // kJ/mol
  std::optional<double> charge;  // when the type, not the residue, carries it
};

struct NonbondedDefinitions {
  bool present = false;
  double coulomb14_scale = 1;
  double lj14_scale = 1;
  bool charge_from_residue = false;                             // <UseAttributeFromResidue name="charge"/>
  std::vector<std::optional<NonbondedTypeParameters>> by_type;  // indexed by type
};

// Per-type parameters of a <GBSAOBCForce> (older files such as amber99_obc.xml).
struct ObcTypeParameters {
  double radius = 0;  // nm
  double scale = 0;   // screening factor
  std::optional<double> charge;
};

struct ObcDefinitions {
  bool present = false;
  bool charge_from_residue = false;
  std::vector<std::optional<ObcTypeParameters>> by_type;  // indexed by type
};

struct ForceField {
  std::vector<std::string> files;  // every file read, includes too, in order
  std::vector<AtomType> types;
  std::vector<std::string> classes;  // class names; "" is not a class
  std::map<std::string, ResidueTemplate> templates;
  std::vector<BondDefinition> bonds;
  std::vector<AngleDefinition> angles;
  std::vector<TorsionDefinition> propers;
  std::vector<TorsionDefinition> impropers;
  NonbondedDefinitions nonbonded;
  ObcDefinitions obc;
  // Set when implicit/obc2.xml was read: its <Script> builds OBC2 implicit
  // solvent from element-based radii, which molearn does natively.
  bool implicit_obc2 = false;

  int find_type(std::string_view name) const;   // -1 when absent
  int find_class(std::string_view name) const;  // -1 when absent
  const ResidueTemplate* find_template(std::string_view name) const;

  // True when atom type `type` is one that `filter` accepts.
  bool accepts(const TypeFilter& filter, int type) const {
    switch (filter.kind) {
      case TypeFilter::Kind::Any:
        return true;
      case TypeFilter::Kind::Class:
        return types[type].atom_class == filter.id;
      case TypeFilter::Kind::Type:
        return type == filter.id;
    }
    return false;
  }
};

}  // namespace molearn
