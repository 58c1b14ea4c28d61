// "Did you mean ...?" for unknown keys and job names: a habit from another
// tool, then a prefix, then a typo.
#include <algorithm>
#include <array>
#include <cctype>

#include "manifest/internal.h"

namespace wp::manifest::detail {

namespace {

struct Alias {
  std::string_view word;
  std::string_view target;
};

// Keys other batch runners and CI systems use for ours; compared with '-'
// read as '_'. Used only where the target is a valid key.
constexpr std::array<Alias, 25> kAliases{{
    {"depends_on", "after"}, {"depends", "after"},    {"deps", "after"},
    {"needs", "after"},      {"requires", "after"},   {"dependencies", "after"},
    {"cmd", "command"},      {"run", "command"},      {"script", "command"},
    {"shell", "command"},    {"args", "argv"},        {"mem", "memory"},
    {"cpus", "cpu"},         {"cores", "cpu"},        {"threads", "cpu"},
    {"gpus", "gpu"},         {"environment", "env"},  {"workdir", "cwd"},
    {"dir", "cwd"},          {"directory", "cwd"},    {"working_directory", "cwd"},
    {"retry", "retries"},    {"attempts", "retries"}, {"time_limit", "timeout"},
    {"walltime", "timeout"},
}};

// A prefix must be this long to mean anything ("c" is a prefix of too much).
constexpr size_t kMinPrefix = 3;

char fold(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

bool same_folded(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return fold(x) == fold(y); });
}

// `prefix` starts `text`, ignoring case.
bool starts(std::string_view text, std::string_view prefix) {
  return prefix.size() <= text.size() && same_folded(text.substr(0, prefix.size()), prefix);
}

using Candidates = std::vector<std::string_view>;

const std::string_view* find(std::string_view word, const Candidates& candidates) {
  auto it = std::find_if(candidates.begin(), candidates.end(),
                         [&](std::string_view candidate) { return same_folded(candidate, word); });
  return it == candidates.end() ? nullptr : &*it;
}

const std::string_view* by_alias(std::string_view word, const Candidates& candidates) {
  std::string key(word);
  for (char& c : key)
    c = c == '-' ? '_' : fold(c);
  for (const Alias& alias : kAliases) {
    if (alias.word == key) return find(alias.target, candidates);
  }
  return nullptr;
}

// "mem" for "memory" when nothing else starts so; "cpus" for "cpu"; the
// longest candidate wins when several start the word.
const std::string_view* by_prefix(std::string_view word, const Candidates& candidates) {
  const std::string_view* extends = nullptr;
  size_t extending = 0;
  const std::string_view* starts_word = nullptr;
  for (const std::string_view& candidate : candidates) {
    if (candidate.size() > word.size() && word.size() >= kMinPrefix && starts(candidate, word)) {
      extends = &candidate;
      ++extending;
    } else if (candidate.size() < word.size() && candidate.size() >= kMinPrefix &&
               starts(word, candidate) &&
               (starts_word == nullptr || candidate.size() > starts_word->size())) {
      starts_word = &candidate;
    }
  }
  if (extending == 1) return extends;
  return starts_word;
}

// Optimal string alignment distance: Levenshtein plus adjacent transpositions,
// the commonest typo ("buidl"), counted as one edit. Three rows of the table
// suffice, as a transposition looks two rows back.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> before(b.size() + 1), previous(b.size() + 1), row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    previous[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = fold(a[i - 1]) == fold(b[j - 1]) ? 0 : 1;
      row[j] = std::min({previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && fold(a[i - 1]) == fold(b[j - 2]) && fold(a[i - 2]) == fold(b[j - 1])) {
        row[j] = std::min(row[j], before[j - 2] + 1);
      }
    }
    std::swap(before, previous);
    std::swap(previous, row);
  }
  return previous[b.size()];
}

const std::string_view* by_distance(std::string_view word, const Candidates& candidates) {
  // A third of the word may be wrong, but at least two edits are allowed so
  // that short words ("tgas" for "tags") still find their match.
  const size_t limit = std::max<size_t>(2, word.size() / 3);
  const std::string_view* best = nullptr;
  size_t best_distance = limit + 1;
  for (const std::string_view& candidate : candidates) {
    // The lengths alone bound the distance from below; skipping saves the
    // table for most of a large matrix's names.
    size_t length_gap =
        std::max(word.size(), candidate.size()) - std::min(word.size(), candidate.size());
    if (length_gap >= best_distance) continue;
    size_t distance = edit_distance(word, candidate);
    if (distance < best_distance && distance < std::max(word.size(), candidate.size())) {
      best = &candidate;
      best_distance = distance;
    }
  }
  return best;
}

}  // namespace

std::optional<std::string> nearest_among(std::string_view word, const Candidates& candidates) {
  const std::string_view* match = find(word, candidates);
  if (match == nullptr) match = by_alias(word, candidates);
  if (match == nullptr) match = by_prefix(word, candidates);
  if (match == nullptr) match = by_distance(word, candidates);
  if (match == nullptr) return std::nullopt;
  return std::string(*match);
}

std::optional<std::string> nearest(std::string_view word,
                                   const std::vector<std::string>& candidates) {
  return nearest_among(word, Candidates(candidates.begin(), candidates.end()));
}

std::string did_you_mean_among(std::string_view word, const Candidates& candidates) {
  std::optional<std::string> match = nearest_among(word, candidates);
  return match ? "; did you mean '" + *match + "'?" : std::string();
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  return did_you_mean_among(word, Candidates(candidates.begin(), candidates.end()));
}

}  // namespace wp::manifest::detail
