// `wp profile`'s JSON: the documents of list, show and history, the export
// document, and the export document read back for import. wp has no JSON
// reader of its own: import parses with SQLite's JSON1 functions.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "profile/forecast.h"
#include "profile/records.h"
#include "profile/sqlite.h"
#include "report/json_writer.h"
#include "util/result.h"

namespace wp::cli {

// The export document's "format" and the "version" this wp writes and reads.
inline constexpr std::string_view kExportFormat = "wp-profiles";
inline constexpr int kExportVersion = 1;

// A profile's predictions for its next run, and how past ones fared.
struct ProfileOutlook {
  static constexpr std::array kResources{profile::Resource::Memory, profile::Resource::Cores,
                                         profile::Resource::Wall, profile::Resource::Iops};
  profile::Forecast forecast;
  std::array<profile::Accuracy, kResources.size()> accuracy;  // in kResources' order
  // Too few attempts of the newest command: predicted from earlier ones too,
  // at half the confidence.
  bool earlier_command = false;

  std::optional<double> value(profile::Resource resource) const {
    const auto& p = forecast.of(resource);
    return p ? std::optional<double>(p->value) : std::nullopt;
  }
  // The memory prediction's, else the wall time's: the figure `list` shows.
  std::optional<double> confidence() const {
    const auto& p = forecast.memory ? forecast.memory : forecast.wall;
    return p ? std::optional<double>(p->confidence) : std::nullopt;
  }
  const profile::Accuracy& memory_accuracy() const { return accuracy[0]; }
};

// `wp profile list --json`: {"database": ..., "profiles": [...]}
std::string list_json(const std::string& db, std::span<const profile::ProfileSummary> profiles,
                      std::span<const ProfileOutlook> outlooks);
// `wp profile show --json`
std::string show_json(const std::string& db, const profile::ProfileSummary& summary,
                      const ProfileOutlook& outlook);
// `wp profile history --json`: an array of attempt objects.
std::string attempts_json(std::span<const profile::AttemptRecord> attempts);

// {"format": "wp-profiles", "version": 1, "exported_at": ..., "attempts": [...]}
std::string export_document(std::span<const profile::AttemptRecord> attempts,
                            std::string_view exported_at);

// The attempts of an export document. `source` names the file in messages
// ("jobs.json: attempts[3]: missing field 'uid'").
Result<std::vector<profile::AttemptRecord>> parse_export(profile::sqlite::Database& db,
                                                         const std::string& text,
                                                         const std::string& source);

}  // namespace wp::cli
