// Compact arrays (sched/ctld/job_array.h): which tasks have a Job of their own, what a task is
// made from the template, how the rest is printed, and the arrays' rows in the store.
#include "sched/ctld/job_array.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>

#include "sched/ctld/store.h"

namespace corral::ctld {
namespace {

JobArray Sample(std::vector<int32_t> indices, int32_t throttle = 0) {
  Job t;
  t.id = 100;
  t.spec.name = "sweep";
  t.spec.user = "ada";
  t.spec.array_job_id = 100;
  t.spec.array_throttle = throttle;
  t.spec.output = "/o/%A_%a.out";
  t.submit_ms = 5000;
  t.payload_id = 100;
  t.reason = "Priority";
  return JobArray(std::move(t), std::move(indices));
}

TEST(JobArray, TasksAreMadeFromTheTemplateWithTheirIdAndIndex) {
  JobArray a = Sample({0, 2, 4, 6});
  EXPECT_EQ(a.first(), 100);
  EXPECT_EQ(a.last(), 103);
  EXPECT_TRUE(a.Contains(103));
  EXPECT_FALSE(a.Contains(104));
  EXPECT_FALSE(a.Contains(99));
  Job t = a.MakeTask(102);
  EXPECT_EQ(t.id, 102);
  EXPECT_EQ(t.spec.array_job_id, 100);
  EXPECT_EQ(t.spec.array_task_id, 4);
  EXPECT_EQ(t.state, JobState::kPending);
  EXPECT_EQ(t.submit_ms, 5000);
  EXPECT_EQ(t.payload_id, 100);
  EXPECT_EQ(t.spec.name, "sweep");
}

TEST(JobArray, TheRestShrinksAsTasksGetJobsOfTheirOwn) {
  JobArray a = Sample({1, 2, 3, 4, 5});
  EXPECT_EQ(a.rest(), 5u);
  EXPECT_TRUE(a.RestActive());
  EXPECT_EQ(a.LowestRest(), 100);
  a.SetOwn(100);
  a.SetOwn(100);  // twice is once
  a.SetOwn(102);
  EXPECT_EQ(a.rest(), 3u);
  EXPECT_EQ(a.LowestRest(), 101);
  EXPECT_TRUE(a.Own(102));
  EXPECT_FALSE(a.Own(103));
  std::vector<JobId> rest;
  a.ForEachRest([&](JobId id) { rest.push_back(id); });
  EXPECT_EQ(rest, (std::vector<JobId>{101, 103, 104}));
  a.SetOwn(101);
  a.SetOwn(103);
  a.SetOwn(104);
  EXPECT_EQ(a.rest(), 0u);
  EXPECT_FALSE(a.RestActive());
  EXPECT_EQ(a.LowestRest(), 0);
}

TEST(JobArray, ACancelledRestIsNotActive) {
  JobArray a = Sample({1, 2});
  a.templ().state = JobState::kCancelled;
  EXPECT_FALSE(a.RestActive());
  EXPECT_EQ(a.MakeTask(101).state, JobState::kCancelled);
}

TEST(JobArray, TheRestIsPrintedAsSlurmPrintsAPendingArray) {
  EXPECT_EQ(Sample({0, 1, 2, 3}).RestRanges(), "0-3");
  EXPECT_EQ(Sample({0, 1, 2, 3}, 2).RestRanges(), "0-3%2");
  EXPECT_EQ(Sample({1, 3, 5}).RestRanges(), "1,3,5");
  JobArray a = Sample({0, 1, 2, 3, 4, 5, 9, 10});
  a.SetOwn(100);  // index 0
  a.SetOwn(103);  // index 3
  EXPECT_EQ(a.RestRanges(), "1-2,4-5,9-10");
  // Long lists end in "..." at about the limit.
  std::vector<int32_t> odd;
  for (int32_t i = 1; i < 20000; i += 2) odd.push_back(i);
  std::string r = Sample(odd).RestRanges(100);
  EXPECT_LE(r.size(), 120u);
  EXPECT_EQ(r.substr(r.size() - 4), ",...");
  EXPECT_EQ(r.substr(0, 6), "1,3,5,");
}

TEST(IndexList, RunsHoldEveryIndexAndFindThemBack) {
  const std::vector<std::vector<int32_t>> cases = {
      {},
      {7},
      {0, 1, 2, 3, 4},
      {1, 3, 5, 7, 100, 101, 102, 200},
      {2, 9, 10, 40, 41, 77, 1000000},  // little pattern: kept flat
      {0, 2147483646},
  };
  for (const auto& v : cases) {
    IndexList l(v);
    ASSERT_EQ(l.size(), v.size());
    EXPECT_EQ(l.ToVector(), v);
    for (size_t k = 0; k < v.size(); ++k) {
      EXPECT_EQ(l[k], v[k]);
      EXPECT_EQ(l.Find(v[k]), k);
      EXPECT_FALSE(l.Find(v[k] + 1).has_value() &&
                   std::find(v.begin(), v.end(), v[k] + 1) == v.end());
    }
    EXPECT_FALSE(l.Find(-1).has_value());
    std::optional<IndexList> back = IndexList::Decode(l.Encode());
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->ToVector(), v);
  }
  // 0-99999 is one run: a few bytes, not 400 KB.
  std::vector<int32_t> big(100000);
  for (int32_t i = 0; i < 100000; ++i) big[i] = i;
  IndexList l(big);
  EXPECT_LE(l.HeapBytes(), 64u);
  EXPECT_EQ(l.Encode().size(), 12u);
  EXPECT_EQ(l[99999], 99999);
  // 1-999:2 too.
  std::vector<int32_t> odd;
  for (int32_t i = 1; i < 1000; i += 2) odd.push_back(i);
  EXPECT_EQ(IndexList(odd).Encode().size(), 12u);
  EXPECT_FALSE(IndexList(odd).Find(4).has_value());
  EXPECT_EQ(IndexList(odd).Find(5), 2u);
}

TEST(IndexList, DecodeRefusesWhatEncodeNeverWrites) {
  auto triple = [](int32_t first, int32_t step, uint32_t count) {
    std::string s;
    for (uint32_t v : {static_cast<uint32_t>(first), static_cast<uint32_t>(step), count}) {
      for (int b = 0; b < 4; ++b) s.push_back(static_cast<char>((v >> (8 * b)) & 0xff));
    }
    return s;
  };
  EXPECT_FALSE(IndexList::Decode("abc").has_value());                        // not whole triples
  EXPECT_FALSE(IndexList::Decode(triple(1, 0, 5)).has_value());              // step 0
  EXPECT_FALSE(IndexList::Decode(triple(1, -2, 5)).has_value());             // backwards
  EXPECT_FALSE(IndexList::Decode(triple(1, 1, 0)).has_value());              // empty run
  EXPECT_FALSE(IndexList::Decode(triple(2147483000, 1000, 5)).has_value());  // past int32
  EXPECT_FALSE(IndexList::Decode(triple(5, 1, 3) + triple(6, 1, 1)).has_value());  // overlap
  EXPECT_FALSE(IndexList::Decode(triple(0, 1, 4000000000u)).has_value());          // huge
  ASSERT_TRUE(IndexList::Decode(triple(5, 1, 3) + triple(10, 5, 2)).has_value());
  EXPECT_EQ(IndexList::Decode(triple(5, 1, 3) + triple(10, 5, 2))->ToVector(),
            (std::vector<int32_t>{5, 6, 7, 10, 15}));
  EXPECT_TRUE(IndexList::Decode("").has_value());
}

class ArrayStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/corral-array-store-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(ArrayStoreTest, AnArrayRowRoundTripsAndHoldsItsIds) {
  {
    auto s = Store::Open(dir_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_TRUE((*s)->Begin().ok());
    JobArray a = Sample({3, 7, 8}, 1);
    a.templ().spec.hold = true;
    a.templ().state = JobState::kCancelled;
    a.templ().end_ms = 9000;
    a.templ().accounted = true;
    ASSERT_TRUE((*s)->PutArray(a).ok());
    ASSERT_TRUE((*s)->Commit().ok());
  }
  auto s = Store::Open(dir_);
  ASSERT_TRUE(s.ok());
  auto loaded = (*s)->LoadArrays();
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_EQ(loaded->size(), 1u);
  const JobArray& a = (*loaded)[0];
  EXPECT_EQ(a.first(), 100);
  EXPECT_EQ(a.last(), 102);
  EXPECT_EQ(a.indices()->ToVector(), (std::vector<int32_t>{3, 7, 8}));
  EXPECT_EQ(a.rest(), 3u);  // which tasks have jobs rows is the caller's to mark
  EXPECT_EQ(a.rest_state(), JobState::kCancelled);
  EXPECT_EQ(a.templ().end_ms, 9000);
  EXPECT_TRUE(a.templ().accounted);
  EXPECT_TRUE(a.templ().spec.hold);
  EXPECT_EQ(a.templ().spec.array_throttle, 1);
  EXPECT_TRUE(a.templ().spec.array_indices.empty());
  EXPECT_EQ(a.templ().reason, "Priority");
  // Ids are never reused: the array holds 100..102 with no jobs rows.
  auto max = (*s)->MaxJobId();
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(*max, 102);
}

TEST_F(ArrayStoreTest, RowsThatDoNotHoldTogetherAreSkipped) {
  {
    auto s = Store::Open(dir_);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Begin().ok());
    ASSERT_TRUE((*s)->PutArray(Sample({1, 2})).ok());
    ASSERT_TRUE((*s)->Commit().ok());
  }
  // Damage it from outside: a range that disagrees with its indices, a state out of range, a
  // spec that is not a protobuf, indices that are not IndexList's encoding.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/corral.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "INSERT INTO arrays SELECT 200,250,state,reason,submit_ms,end_ms,"
                         "accounted,spec,payload_id,indices FROM arrays WHERE first=100;"
                         "INSERT INTO arrays SELECT 300,301,99,reason,submit_ms,end_ms,"
                         "accounted,spec,payload_id,indices FROM arrays WHERE first=100;"
                         "INSERT INTO arrays SELECT 400,401,0,'',0,0,0,x'ffff01',0,indices "
                         "FROM arrays WHERE first=100;"
                         "INSERT INTO arrays SELECT 500,501,state,reason,submit_ms,end_ms,"
                         "accounted,spec,payload_id,x'0102' FROM arrays WHERE first=100;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto s = Store::Open(dir_);
  ASSERT_TRUE(s.ok());
  auto loaded = (*s)->LoadArrays();
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0].first(), 100);
}

}  // namespace
}  // namespace corral::ctld
