// A 2-node job runs an MPI program with one rank on each node, started through corral-node.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "tests/integration/local_cluster.h"

namespace corral::testing {
namespace {

TEST(Mpi, TwoNodeJobPrintsOneRankPerNode) {
  auto c = LocalCluster::Start();
  ASSERT_TRUE(c);
  CmdResult s = c->Corral("submit --parsable -o mpi.out " + SourceDir() + "/examples/mpi/hello.sh");
  ASSERT_EQ(s.code, 0) << s.err;
  CmdResult w = c->Corral("wait -q --timeout 120 " + s.out.substr(0, s.out.find('\n')));
  std::string out = c->ReadFile("mpi.out");
  ASSERT_EQ(w.code, 0) << out << c->Diagnose();
  std::regex line(R"(rank (\d) of 2 on node (\S+) .*allreduce ok)");
  std::set<std::string> ranks, nodes;
  for (std::sregex_iterator it(out.begin(), out.end(), line), end; it != end; ++it) {
    ranks.insert((*it)[1]);
    nodes.insert((*it)[2]);
  }
  EXPECT_EQ(ranks, (std::set<std::string>{"0", "1"})) << out;
  EXPECT_EQ(nodes.size(), 2u) << out;
}

}  // namespace
}  // namespace corral::testing
