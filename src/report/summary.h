// The end of a run, for people (text on stderr) and for programs (JSON).
#pragma once

#include <filesystem>
#include <string>

#include "manifest/diagnostic.h"
#include "report/json_writer.h"
#include "report/run_report.h"

namespace wp::report {

// A path as the user wants to read it: relative to the working directory
// when it lies below it (or close), absolute otherwise.
std::string display_path(const std::filesystem::path& path);

// "2026-11-24T05:50:12.123Z"
std::string format_time(Clock::time_point time);

// An attempt's `usage` object, as in the run summary (and `wp profile`'s JSON).
void write_usage(JsonWriter& json, const Usage& usage);
// {cpu, memory, iops, gpu}; iops null when the capacity does not limit it.
void write_resources(JsonWriter& json, const Resources& r);

// The run summary document of `wp run --json` and <run-dir>/summary.json,
// into `json` (which may stream it: about 1.6 KB a job), or as a string.
void write_run_json(JsonWriter& json, const RunReport& report);
std::string run_json(const RunReport& report);

// "wp: 6 jobs in 4.21s: 4 ok, 1 failed, 1 skipped" and a line per job that
// did not succeed, with its reason or exit and its log.
std::string run_text(const RunReport& report);

// The document of `wp validate --json`.
std::string validation_json(const std::string& manifest, const manifest::Diagnostics& errors,
                            size_t job_count);

}  // namespace wp::report
