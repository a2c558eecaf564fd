#include "launcher/profile.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace corral {
namespace {

const std::string kTopologies = CORRAL_TOPOLOGY_DIR;
const std::string kTestdata = CORRAL_TESTDATA_DIR;

// A temporary file holding `content`, removed at the end of the scope.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    char tmpl[] = "/tmp/corral_profile_test_XXXXXX";
    int fd = mkstemp(tmpl);
    EXPECT_GE(fd, 0);
    if (fd >= 0) close(fd);
    path_ = tmpl;
    std::ofstream(path_, std::ios::binary) << content;
  }
  ~TempFile() { unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Result<NodeProfile> Build(const std::string& topology, const std::string& gpus = "") {
  return BuildProfile({"sim1", topology, gpus});
}

constexpr int64_t kGB = 1000LL * 1000 * 1000;
constexpr int64_t kGiB = 1LL << 30;

struct SyntheticCase {
  std::string topology;
  int cpus, cores, sockets, numa;
  int64_t mem_bytes;
};

TEST(BuildProfile, SyntheticTopologies) {
  const SyntheticCase cases[] = {
      {"pack:2 numa:4(memory=64GB) l3:1 core:8 pu:2", 128, 64, 2, 8, 8 * 64 * kGB},
      {"pack:2 numa:1(memory=256GiB) l3:1 core:16 pu:2", 64, 32, 2, 2, 2 * 256 * kGiB},
      {"numa:2(memory=32GiB) core:2 pu:2", 8, 4, 1, 2, 2 * 32 * kGiB},  // no package -> 1
      {"pack:1 core:4 pu:1", 4, 4, 1, 1, 1 * kGiB},                     // hwloc's default NUMA
      {"pack:1 numa:1(memory=1GiB) pu:3", 3, 3, 1, 1, 1 * kGiB},        // no cores -> PUs
  };
  for (const SyntheticCase& c : cases) {
    SCOPED_TRACE(c.topology);
    Result<NodeProfile> p = Build(c.topology);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(p->name, "sim1");
    EXPECT_EQ(p->cpus, c.cpus);
    EXPECT_EQ(p->cores, c.cores);
    EXPECT_EQ(p->sockets, c.sockets);
    EXPECT_EQ(p->numa_nodes, c.numa);
    EXPECT_EQ(p->mem_mib, c.mem_bytes >> 20);
    EXPECT_TRUE(p->gpus.empty());
  }
}

TEST(BuildProfile, XmlWithFourH100) {
  Result<NodeProfile> p = Build(kTopologies + "/h100x4-2numa.xml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->cpus, 64);
  EXPECT_EQ(p->cores, 32);
  EXPECT_EQ(p->sockets, 2);
  EXPECT_EQ(p->numa_nodes, 2);
  EXPECT_EQ(p->mem_mib, 2 * 256 * 1024);
  ASSERT_EQ(p->gpus.size(), 4u);
  const int numa[] = {0, 0, 1, 1};
  const char* bus[] = {"0000:18:00.0", "0000:2a:00.0", "0000:3a:00.0", "0000:5d:00.0"};
  for (int i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(p->gpus[i].index, i);
    EXPECT_EQ(p->gpus[i].model, "h100");
    EXPECT_EQ(p->gpus[i].mem_mib, 85520809984LL >> 20);  // CUDAGlobalMemorySize
    EXPECT_EQ(p->gpus[i].numa, numa[i]);
    EXPECT_EQ(p->gpus[i].pci_bus_id, bus[i]);
  }
  EXPECT_EQ(p->GpuCount("h100"), 4);
}

struct XmlCase {
  std::string file, model;
  std::vector<int> numa;
  int numa_nodes, cpus;
};

TEST(BuildProfile, ExampleTopologies) {
  const XmlCase cases[] = {
      {"h100x8-2numa.xml", "h100", {0, 0, 0, 0, 1, 1, 1, 1}, 2, 224},
      {"a100x8-8numa.xml", "a100", {3, 3, 1, 1, 7, 7, 5, 5}, 8, 256},
      {"l40sx4-2numa.xml", "l40s", {0, 0, 1, 1}, 2, 96},
      {"rtx4090x2-1numa.xml", "rtx4090", {0, 0}, 1, 32},
      {"cpu-2numa.xml", "", {}, 2, 128},
  };
  for (const XmlCase& c : cases) {
    SCOPED_TRACE(c.file);
    Result<NodeProfile> p = Build(kTopologies + "/" + c.file);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(p->numa_nodes, c.numa_nodes);
    EXPECT_EQ(p->cpus, c.cpus);
    ASSERT_EQ(p->gpus.size(), c.numa.size());
    for (size_t i = 0; i < c.numa.size(); ++i) {
      EXPECT_EQ(p->gpus[i].index, static_cast<int>(i));
      EXPECT_EQ(p->gpus[i].model, c.model);
      EXPECT_EQ(p->gpus[i].numa, c.numa[i]);
      EXPECT_GT(p->gpus[i].mem_mib, 0);
    }
  }
}

// No CUDA OS devices: GPU OS devices (NVML, DRM) of NVIDIA PCI devices, one GPU per PCI
// device, model from the one that names it, memory from the table; the VGA of another vendor
// is ignored.
TEST(BuildProfile, GpusFromNvmlOsDevices) {
  Result<NodeProfile> p = Build(kTestdata + "/nvml-gpus.xml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->gpus.size(), 2u);
  EXPECT_EQ(p->gpus[0].index, 0);
  EXPECT_EQ(p->gpus[0].model, "h100");
  EXPECT_EQ(p->gpus[0].mem_mib, 80 * 1024);
  EXPECT_EQ(p->gpus[0].numa, 0);
  EXPECT_EQ(p->gpus[0].pci_bus_id, "0000:18:00.0");
  EXPECT_EQ(p->gpus[1].index, 1);
  EXPECT_EQ(p->gpus[1].model, "h100");
  EXPECT_EQ(p->gpus[1].numa, 1);
  EXPECT_EQ(p->gpus[1].pci_bus_id, "0000:3a:00.0");
}

// Only PCI devices (Debian's hwloc on a GPU machine): NVIDIA 0300/0302 devices in bus order,
// model from the PCI device id; a device on the machine's root has no NUMA node; NVIDIA audio
// functions and other vendors are ignored. No NVML: the XML is not this machine.
TEST(BuildProfile, GpusFromBarePciDevices) {
  Result<NodeProfile> p = Build(kTestdata + "/bare-pci-gpus.xml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->gpus.size(), 2u);
  EXPECT_EQ(p->gpus[0].model, "nvidia-1db4");
  EXPECT_EQ(p->gpus[0].mem_mib, 0);
  EXPECT_EQ(p->gpus[0].numa, 1);
  EXPECT_EQ(p->gpus[0].pci_bus_id, "0000:41:00.0");
  EXPECT_EQ(p->gpus[1].model, "nvidia-2684");
  EXPECT_EQ(p->gpus[1].numa, -1);
  EXPECT_EQ(p->gpus[1].pci_bus_id, "0000:c1:00.0");
  EXPECT_EQ(p->gpus[1].index, 1);
}

TEST(BuildProfile, GpusOptionOverridesTopology) {
  Result<NodeProfile> p = Build(kTopologies + "/h100x4-2numa.xml", "2xA100@numa1");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->gpus.size(), 2u);
  EXPECT_EQ(p->gpus[0].model, "a100");
  EXPECT_EQ(p->gpus[1].numa, 1);
  EXPECT_EQ(p->GpuCount("h100"), 0);

  p = Build(kTopologies + "/h100x4-2numa.xml", "none");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(p->gpus.empty());

  p = Build("pack:2 numa:1(memory=64GiB) core:4 pu:1", "2xH100@numa0,2xH100@numa1");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->GpuCount("h100"), 4);
}

TEST(BuildProfile, GpusOptionIsCheckedAgainstTheTopology) {
  Result<NodeProfile> p = Build("pack:1 numa:1(memory=64GiB) core:4 pu:1", "2xH100@numa1");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), Status::Code::kInvalid);
  EXPECT_NE(p.status().message().find("--gpus"), std::string::npos) << p.status().message();
}

TEST(BuildProfile, BadTopologies) {
  TempFile garbage("this is not <xml at all \x01\x02\xff");
  TempFile empty("");
  TempFile truncated(
      "<?xml version=\"1.0\"?>\n<topology version=\"2.0\">\n  <object type=\"Machine\"");
  TempFile wrong_root("<?xml version=\"1.0\"?>\n<html><body>hello</body></html>\n");
  struct Case {
    std::string topology, reason;
  } cases[] = {
      {"garbage", "synthetic"},
      {"pack:2 core:0 pu:1", "synthetic"},
      {"pack:2 core:4", "synthetic"},  // must end with pu
      {std::string("pack:2\x01\xff pu:2", 13), "synthetic"},
      {"pack:1000 core:1000 pu:1000", "more than"},
      {std::string("pack:1 pu:1\0garbage", 19), "NUL"},
      {std::string(100000, 'x'), "synthetic"},
      {"/nonexistent/node.xml", "no such file"},
      {"missing.xml", "no such file"},
      {"/tmp", "not a regular file"},
      {garbage.path(), "XML"},
      {empty.path(), "empty"},
      {truncated.path(), "XML"},
      {wrong_root.path(), "XML"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.topology.substr(0, 60));
    Result<NodeProfile> p = Build(c.topology);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), Status::Code::kInvalid);
    const std::string& m = p.status().message();
    EXPECT_EQ(m.rfind("--topology=", 0), 0u) << m;
    EXPECT_NE(m.find(c.reason), std::string::npos) << m;
    EXPECT_LT(m.size(), 600u) << m;
  }
}

TEST(BuildProfile, BadName) {
  Result<NodeProfile> p = BuildProfile({"bad name\n", "pack:1 pu:1", ""});
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("--name"), std::string::npos);
}

TEST(BuildProfile, ThisMachine) {
  Result<NodeProfile> p = BuildProfile({});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_FALSE(p->name.empty());
  EXPECT_GE(p->cpus, 1);
  EXPECT_GE(p->cores, 1);
  EXPECT_GE(p->sockets, 1);
  EXPECT_GE(p->numa_nodes, 1);
  EXPECT_GT(p->mem_mib, 0);
  for (const GpuDevice& g : p->gpus) {  // none here; where there are, they must be sane
    EXPECT_FALSE(g.model.empty());
    EXPECT_LT(g.numa, p->numa_nodes);
  }
}

// The PCIe switch of each GPU: the PCI bridge its branch hangs from, numbered within the node;
// GPUs on host bridges alone have none.
TEST(BuildProfile, PcieSwitchesFromPciBridges) {
  Result<NodeProfile> p = Build(kTestdata + "/pcie-switches.xml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->gpus.size(), 4u);
  EXPECT_EQ(p->gpus[0].pcie_switch, 0);
  EXPECT_EQ(p->gpus[1].pcie_switch, 0);
  EXPECT_EQ(p->gpus[2].pcie_switch, 1);
  EXPECT_EQ(p->gpus[3].pcie_switch, 2);
  EXPECT_EQ(p->gpus[0].numa, 0);
  EXPECT_EQ(p->gpus[3].numa, 1);
  Result<NodeProfile> flat = Build(kTopologies + "/h100x4-2numa.xml");
  ASSERT_TRUE(flat.ok());
  for (const GpuDevice& g : flat->gpus) EXPECT_EQ(g.pcie_switch, -1);
}

TEST(ParseGpuList, SwitchesOfSimulatedGpus) {
  Result<std::vector<GpuDevice>> r = ParseGpuList("2xH100@numa0/sw0,2xH100@numa0/SW1,1xH100", 1);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 5u);
  EXPECT_EQ((*r)[0].pcie_switch, 0);
  EXPECT_EQ((*r)[1].pcie_switch, 0);
  EXPECT_EQ((*r)[2].pcie_switch, 1);
  EXPECT_EQ((*r)[4].pcie_switch, -1);
  for (const char* bad : {"2xH100@numa0/sw", "2xH100@numa0/sw-1", "2xH100@numa0/x1",
                          "2xH100@numa0/sw64", "2xH100@numa0/sw1x", "2xH100@numa0/"}) {
    Result<std::vector<GpuDevice>> b = ParseGpuList(bad, 1);
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_NE(b.status().message().find("/swM"), std::string::npos) << b.status().message();
  }
  Result<std::vector<GpuDevice>> two = ParseGpuList("1xH100@numa0/sw0,1xH100@numa1/sw0", 2);
  ASSERT_FALSE(two.ok());
  EXPECT_NE(two.status().message().find("under two NUMA nodes"), std::string::npos)
      << two.status().message();
}

TEST(ParseGpuList, GoodLists) {
  struct Case {
    std::string spec;
    int numa_nodes;
    std::vector<std::string> models;
    std::vector<int> numa;
    std::vector<int64_t> mem;
  } cases[] = {
      {"2xH100@numa0,2xH100@numa1",
       2,
       {"h100", "h100", "h100", "h100"},
       {0, 0, 1, 1},
       {81920, 81920, 81920, 81920}},
      {"8xA100", 1, std::vector<std::string>(8, "a100"), std::vector<int>(8, -1),
       std::vector<int64_t>(8, 81920)},
      {"2xRTX4090@numa0", 1, {"rtx4090", "rtx4090"}, {0, 0}, {24576, 24576}},
      {"1xL40S@NUMA1, 1Xv100 ,1xT4@numa0",
       2,
       {"l40s", "v100", "t4"},
       {1, -1, 0},
       {49152, 32768, 16384}},
      {"3xMI300X", 1, {"mi300x", "mi300x", "mi300x"}, {-1, -1, -1}, {0, 0, 0}},
      {"1xgh200-480gb@numa0", 4, {"gh200-480gb"}, {0}, {0}},
      {"64xH100", 1, std::vector<std::string>(64, "h100"), std::vector<int>(64, -1),
       std::vector<int64_t>(64, 81920)},
      {"none", 1, {}, {}, {}},
      {" NONE ", 1, {}, {}, {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.spec);
    Result<std::vector<GpuDevice>> r = ParseGpuList(c.spec, c.numa_nodes);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->size(), c.models.size());
    for (size_t i = 0; i < r->size(); ++i) {
      const GpuDevice& g = (*r)[i];
      EXPECT_EQ(g.index, static_cast<int>(i));
      EXPECT_EQ(g.model, c.models[i]);
      EXPECT_EQ(g.numa, c.numa[i]);
      EXPECT_EQ(g.mem_mib, c.mem[i]);
      EXPECT_EQ(g.pci_bus_id, "");
    }
  }
}

TEST(ParseGpuList, HostileLists) {
  struct Case {
    std::string spec, reason;
  } cases[] = {
      {"0xH100", "count must be 1..64"},
      {"-1xH100", "positive whole number"},
      {"+1xH100", "positive whole number"},
      {"2xH100@numa9", "NUMA node 9 does not exist"},
      {"2xH100@numa2", "NUMA node 2 does not exist"},
      {"abc", "expected COUNTxMODEL"},
      {"H100", "expected COUNTxMODEL"},
      {"", "empty list"},
      {"   ", "empty list"},
      {"2x", "missing model"},
      {"2x@numa0", "missing model"},
      {"2H100", "expected COUNTxMODEL"},
      {"99999999999xH100", "count must be 1..64"},
      {"999999999999999999999999999999xH100", "count must be 1..64"},
      {"65xH100", "count must be 1..64"},
      {"40xH100,40xA100", "more than 64 GPUs in total"},
      {"2xH100,", "empty item"},
      {",2xH100", "empty item"},
      {"2xH100,,2xA100", "empty item"},
      {"2xH100@", "expected @numaN"},
      {"2xH100@numa", "expected @numaN"},
      {"2xH100@numa-1", "expected @numaN"},
      {"2xH100@numa0x", "expected @numaN"},
      {"2xH100@socket0", "expected @numaN"},
      {"2xH100@numa99999999999999999999", "does not exist"},
      {"2xH 100", "only letters, digits"},
      {"2xH100;rm -rf /", "only letters, digits"},
      {"2x" + std::string(33, 'a'), "longer than 32"},
      {std::string(5000, 'x'), "longer than 4096"},
      {std::string(3000, ','), "empty item"},
      {std::string("2xH1\x00"
                   "00",
                   7),
       "only letters, digits"},
      {"2x\xff\xfe\x01", "only letters, digits"},
      {"\x80\x81", "expected COUNTxMODEL"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.spec.substr(0, 60));
    Result<std::vector<GpuDevice>> r = ParseGpuList(c.spec, 2);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Status::Code::kInvalid);
    const std::string& m = r.status().message();
    EXPECT_EQ(m.rfind("--gpus=", 0), 0u) << m;
    EXPECT_NE(m.find(c.reason), std::string::npos) << m;
    EXPECT_LT(m.size(), 400u) << m;  // long input is shortened
    for (char ch : m) {
      EXPECT_TRUE(ch >= 0x20 && ch < 0x7f) << "non-printable byte in: " << m;
    }
  }
}

TEST(ParseGpuList, NumaWithoutNumaNodes) {
  Result<std::vector<GpuDevice>> r = ParseGpuList("1xH100@numa0", 0);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("does not exist"), std::string::npos);
}

TEST(NormalizeGpuModel, MarketingNames) {
  const std::pair<std::string, std::string> cases[] = {
      {"NVIDIA H100 80GB HBM3", "h100"},
      {"NVIDIA H100 PCIe", "h100"},
      {"NVIDIA A100-SXM4-80GB", "a100"},
      {"NVIDIA A100 80GB PCIe", "a100"},
      {"Tesla V100-SXM2-32GB", "v100"},
      {"Tesla T4", "t4"},
      {"NVIDIA L40S", "l40s"},
      {"NVIDIA GeForce RTX 4090", "rtx4090"},
      {"NVIDIA RTX A6000", "rtxa6000"},
      {"Quadro RTX 8000", "rtx8000"},
      {"NVIDIA GH200 480GB", "gh200"},
      {"nvidia", ""},
      {"", ""},
  };
  for (const auto& [name, model] : cases) {
    EXPECT_EQ(NormalizeGpuModel(name), model) << name;
  }
}

TEST(KnownGpuMemMib, Table) {
  EXPECT_EQ(KnownGpuMemMib("h100"), 80 * 1024);
  EXPECT_EQ(KnownGpuMemMib("a100"), 80 * 1024);
  EXPECT_EQ(KnownGpuMemMib("rtx4090"), 24 * 1024);
  EXPECT_EQ(KnownGpuMemMib("l40s"), 48 * 1024);
  EXPECT_EQ(KnownGpuMemMib("v100"), 32 * 1024);
  EXPECT_EQ(KnownGpuMemMib("t4"), 16 * 1024);
  EXPECT_EQ(KnownGpuMemMib("H100"), 0);  // callers pass normalised names
  EXPECT_EQ(KnownGpuMemMib("b200"), 0);
}

TEST(NumaCpus, ThePusOfEachNumaNode) {
  auto two = NumaCpus("pack:1 numa:2 core:2 pu:2");
  ASSERT_TRUE(two.ok()) << two.status().message();
  EXPECT_EQ(*two, (std::vector<std::vector<int32_t>>{{0, 1, 2, 3}, {4, 5, 6, 7}}));
  auto flat = NumaCpus("core:3 pu:1");
  ASSERT_TRUE(flat.ok()) << flat.status().message();
  ASSERT_EQ(flat->size(), 1u) << "hwloc gives a machine one NUMA node when it names none";
  EXPECT_EQ(flat->front(), (std::vector<int32_t>{0, 1, 2}));
  auto here = NumaCpus("");
  ASSERT_TRUE(here.ok()) << here.status().message();
  size_t pus = 0;
  for (const auto& n : *here) pus += n.size();
  EXPECT_GE(pus, 1u);
  EXPECT_FALSE(NumaCpus("pack:0 pu:1").ok());
}

}  // namespace
}  // namespace corral
