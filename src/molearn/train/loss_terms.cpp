#include "molearn/train/loss_terms.hpp"

#include <cctype>
#include <map>
#include <mutex>

#include "molearn/core/error.hpp"

namespace molearn {

namespace {

struct Registry {
  std::mutex mutex;
  std::map<std::string, LossTerm> terms;
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

void register_loss_term(const std::string& name, LossTerm term) {
  if (name.empty() || !term) throw InputError("register_loss_term: a name and a term are needed");
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
      throw InputError("register_loss_term: '" + name + "' is not a plain word (letters, digits, _)");
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  if (!r.terms.emplace(name, std::move(term)).second)
    throw InputError("register_loss_term: '" + name + "' is already registered");
}

LossTerm find_loss_term(const std::string& name) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  const auto it = r.terms.find(name);
  if (it != r.terms.end()) return it->second;
  std::string known;
  for (const auto& [n, t] : r.terms) known += (known.empty() ? "" : ", ") + n;
  throw InputError("unknown loss term '" + name + "' (registered: " + (known.empty() ? "none" : known) + ")");
}

std::vector<std::string> loss_term_names() {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  std::vector<std::string> names;
  for (const auto& [n, t] : r.terms) names.push_back(n);
  return names;
}

}  // namespace molearn
