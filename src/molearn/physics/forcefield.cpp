#include "molearn/physics/forcefield.hpp"

namespace molearn {

int ResidueTemplate::find_atom(std::string_view atom_name) const {
  for (std::size_t i = 0; i < atoms.size(); ++i)
    if (atoms[i].name == atom_name) return static_cast<int>(i);
  return -1;
}

bool TorsionDefinition::has_wildcard() const {
  for (const TypeFilter& f : atoms)
    if (f.kind == TypeFilter::Kind::Any) return true;
  return false;
}

int ForceField::find_type(std::string_view name) const {
  for (std::size_t i = 0; i < types.size(); ++i)
    if (types[i].name == name) return static_cast<int>(i);
  return -1;
}

int ForceField::find_class(std::string_view name) const {
  for (std::size_t i = 0; i < classes.size(); ++i)
    if (classes[i] == name) return static_cast<int>(i);
  return -1;
}

const ResidueTemplate* ForceField::find_template(std::string_view name) const {
  auto it = templates.find(std::string(name));
  return it == templates.end() ? nullptr : &it->second;
}

}  // namespace molearn
