// What the fuzz targets share: an Incident context for templates and `when`
// conditions, shaped as api/reference.h describes.
#pragma once

#include <nlohmann/json.hpp>

namespace remedy::fuzz {

inline const nlohmann::json& incidentContext() {
  static const nlohmann::json context = {
      {"alert",
       {{"name", "HighLatency"},
        {"status", "firing"},
        {"labels",
         {{"alertname", "HighLatency"}, {"deployment", "API"}, {"n", "3"}, {"empty", ""}}},
        {"annotations", {{"summary", "p99 \"over\" 2s\n"}, {"age", "90"}}},
        {"fingerprint", "1c2b3a4d5e6f7081"},
        {"startsAt", "2024-05-01T12:00:00Z"},
        {"endsAt", ""},
        {"generatorURL", "http://prometheus:9090/graph?g0.expr=x"}}},
      {"params", {{"replicas", "5"}, {"pattern", "a*b?[c]"}, {"wait", "5m"}}},
      {"steps",
       {{"scale-up", {{"phase", "Succeeded"}, {"outputs", {{"replicas", "5"}, {"n", "1.5"}}}}},
        {"diagnose", {{"phase", "Failed"}, {"outputs", nlohmann::json::object()}}}}},
      {"incident", {{"name", "inc-1"}, {"namespace", "shop"}, {"source", "alertmanager"}}}};
  return context;
}

}  // namespace remedy::fuzz
