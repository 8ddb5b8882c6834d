// Watch body framing: objects split at any byte boundary.
#include "kube/json_frames.h"

#include <gtest/gtest.h>

#include <vector>

namespace remedy::kube {
namespace {

TEST(JsonFrames, SplitsConcatenatedObjectsAtAnyChunkBoundary) {
  std::string stream =
      "{\"type\":\"ADDED\",\"object\":{\"a\":\"}{\\\"\"}}\n"
      "{\"type\":\"MODIFIED\",\"object\":{\"b\":[1,{\"c\":2}]}}\r\n  "
      "{\"type\":\"DELETED\",\"object\":{}}";
  for (size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    JsonFrames frames;
    std::vector<std::string> out;
    for (size_t i = 0; i < stream.size(); i += chunk) {
      frames.feed(std::string_view(stream).substr(i, chunk));
      while (auto f = frames.next()) out.push_back(*f);
    }
    ASSERT_EQ(out.size(), 3u) << "chunk " << chunk;
    EXPECT_EQ(out[0], "{\"type\":\"ADDED\",\"object\":{\"a\":\"}{\\\"\"}}");
    EXPECT_EQ(out[2], "{\"type\":\"DELETED\",\"object\":{}}");
    EXPECT_EQ(frames.pending(), 0u);
  }
}

TEST(JsonFrames, IncompleteObjectStaysPending) {
  JsonFrames frames;
  frames.feed("{\"type\":\"ADDED\"");
  EXPECT_FALSE(frames.next().has_value());
  EXPECT_GT(frames.pending(), 0u);
  frames.feed("}");
  EXPECT_TRUE(frames.next().has_value());
}

}  // namespace
}  // namespace remedy::kube
