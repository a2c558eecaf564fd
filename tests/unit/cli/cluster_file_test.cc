// The cluster file of `corral up`: good files expand, hostile ones fail naming the field.
#include "cli/cluster_file.h"

#include <gtest/gtest.h>

namespace corral::cli {
namespace {

TEST(ClusterFile, ExpandsCountsAndResolvesXmlPaths) {
  auto r = ParseClusterFile(R"(nodes:
  - name: h100
    topology: topologies/h.xml
  - name: cpu
    count: 3
    topology: "pack:1 core:4 pu:1"
    gpus: "2xT4"
)",
                            "/etc/corral");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[0].name, "h100");
  EXPECT_EQ((*r)[0].topology, "/etc/corral/topologies/h.xml");
  EXPECT_EQ((*r)[3].name, "cpu3");
  EXPECT_EQ((*r)[3].topology, "pack:1 core:4 pu:1");
  EXPECT_EQ((*r)[3].gpus, "2xT4");
  EXPECT_TRUE((*r)[3].contain);
  auto plain = ParseClusterFile("nodes:\n  - name: u\n    contain: false\n", "/");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_FALSE((*plain)[0].contain);
}

struct Bad {
  const char* yaml;
  const char* error_contains;
};

TEST(ClusterFile, RejectsHostileFiles) {
  const Bad cases[] = {
      {"", "needs a list under `nodes:`"},
      {"nodes: 3", "needs a list"},
      {"nodes: []", "is empty"},
      {"nodes:\n  - 7", "nodes[0]: must be a mapping"},
      {"nodes:\n  - topology: x", "nodes[0].name: missing"},
      {"nodes:\n  - name: a\n    colour: red", "nodes[0].colour: unknown field"},
      {"nodes:\n  - name: a\n  - name: a", "appears twice"},
      {"nodes:\n  - name: a\n    count: -1", "nodes[0].count: must be 1..256"},
      {"nodes:\n  - name: a\n    count: 100000", "must be 1..256"},
      {"nodes:\n  - name: a\n    count: lots", "nodes[0].count: not an integer"},
      {"nodes:\n  - name: \"a b/../\"", "must be 1-48 letters"},
      {"nodes: [ {name: a", "cluster file:"},
      {"\x01\x02\xff\xfe", "cluster file:"},
      {"nodes:\n  - name: [1, 2]", "cluster file:"},
      {"nodes:\n  - name: a\n    contain: maybe", "nodes[0].contain: must be true or false"},
  };
  for (const auto& c : cases) {
    auto r = ParseClusterFile(c.yaml, "/");
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_NE(r.status().message().find(c.error_contains), std::string::npos)
        << c.yaml << " -> " << r.status().message();
  }
}

TEST(ClusterFile, LongInputDoesNotCrash) {
  std::string yaml = "nodes:\n  - name: " + std::string(1 << 20, 'x') + "\n";
  EXPECT_FALSE(ParseClusterFile(yaml, "/").ok());
}

}  // namespace
}  // namespace corral::cli
