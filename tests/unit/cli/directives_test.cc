// Tests for cli/directives.h: which lines count as directives and how they are split.
#include "cli/directives.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace corral {
namespace {

using Tokens = std::vector<std::string>;

struct GoodCase {
  const char* what;
  std::string script;
  Tokens tokens;
};

TEST(ExtractDirectives, GoodScripts) {
  const GoodCase cases[] = {
      {"sbatch prefix",
       "#!/bin/bash\n#SBATCH -N 2\n#SBATCH --time=10\necho hi\n",
       {"-N", "2", "--time=10"}},
      {"corral prefix",
       "#!/bin/bash\n#CORRAL -J train\n#CORRAL -n 4\nsrun x\n",
       {"-J", "train", "-n", "4"}},
      {"mixed prefixes",
       "#!/bin/sh\n#CORRAL -N 1\n#SBATCH -N 2\n#CORRAL --gpus=h100:2\n",
       {"-N", "1", "-N", "2", "--gpus=h100:2"}},
      {"several per line",
       "#!/bin/sh\n#SBATCH -N 2 -n 8\t--mem=4G\n",
       {"-N", "2", "-n", "8", "--mem=4G"}},
      {"tab after prefix", "#!/bin/sh\n#SBATCH\t-N 3\n", {"-N", "3"}},
      {"double quotes", "#!/bin/sh\n#SBATCH -J \"my job\"\n", {"-J", "my job"}},
      {"single quotes", "#!/bin/sh\n#SBATCH -J 'a \"b\" $c'\n", {"-J", "a \"b\" $c"}},
      {"quotes inside a word", "#!/bin/sh\n#SBATCH --job-name=\"a b\"c\n", {"--job-name=a bc"}},
      {"escapes in double quotes",
       "#!/bin/sh\n#SBATCH -J \"q\\\"\\\\\\$x\\n\"\n",
       {"-J", "q\"\\$x\\n"}},
      {"backslash outside quotes", "#!/bin/sh\n#SBATCH -J a\\ b\n", {"-J", "a b"}},
      {"empty quoted word", "#!/bin/sh\n#SBATCH -J \"\"\n", {"-J", ""}},
      {"comment after a word", "#!/bin/sh\n#SBATCH -N 2 # two nodes -N 9\n", {"-N", "2"}},
      {"hash inside a word", "#!/bin/sh\n#SBATCH -J a#b\n", {"-J", "a#b"}},
      {"quoted hash", "#!/bin/sh\n#SBATCH -J \"# not a comment\"\n", {"-J", "# not a comment"}},
      {"blank lines and comments between",
       "#!/bin/sh\n\n# note\n   \n#SBATCH -N 2\n\t# x\n#SBATCH -n 3\n",
       {"-N", "2", "-n", "3"}},
      {"stop at first command", "#!/bin/sh\n#SBATCH -N 2\necho hi\n#SBATCH -n 9\n", {"-N", "2"}},
      {"indented command stops too",
       "#!/bin/sh\n#SBATCH -N 2\n  cd /tmp\n#SBATCH -n 9\n",
       {"-N", "2"}},
      {"prefix must be a word",
       "#!/bin/sh\n#SBATCHX -N 9\n#CORRAL-N 9\n#SBATCH -n 2\n",
       {"-n", "2"}},
      {"prefix must start the line", "#!/bin/sh\n  #SBATCH -N 9\n#SBATCH -n 2\n", {"-n", "2"}},
      {"prefix is case sensitive",
       "#!/bin/sh\n#sbatch -N 9\n#Corral -N 9\n#SBATCH -n 2\n",
       {"-n", "2"}},
      {"empty directive",
       "#!/bin/sh\n#SBATCH\n#SBATCH   # only a comment\n#SBATCH -N 2\n",
       {"-N", "2"}},
      {"no shebang", "#SBATCH -N 2\necho\n", {"-N", "2"}},
      {"no trailing newline", "#!/bin/sh\n#SBATCH -N 2", {"-N", "2"}},
      {"shebang only counts on line 1", "#!/bin/sh\n#!/bin/bash\n#SBATCH -N 2\n", {"-N", "2"}},
      {"crlf ends are blanks", "#!/bin/sh\r\n#SBATCH -N 2\r\n", {"-N", "2"}},
      {"empty script", "", {}},
      {"no directives", "#!/bin/sh\nhostname\n", {}},
  };
  for (const GoodCase& c : cases) {
    Result<Tokens> got = ExtractDirectives(c.script);
    ASSERT_TRUE(got.ok()) << c.what << ": " << got.status().ToString();
    EXPECT_EQ(*got, c.tokens) << c.what;
  }
}

TEST(ExtractDirectives, LinesKeepTheirNumbers) {
  Result<std::vector<DirectiveLine>> lines =
      ExtractDirectiveLines("#!/bin/sh\n\n#SBATCH -N 2\n# c\n#CORRAL -J x y\n#SBATCH\n");
  ASSERT_TRUE(lines.ok()) << lines.status().ToString();
  ASSERT_EQ(lines->size(), 2u);
  EXPECT_EQ((*lines)[0].line, 3u);
  EXPECT_EQ((*lines)[0].tokens, (Tokens{"-N", "2"}));
  EXPECT_EQ((*lines)[1].line, 5u);
  EXPECT_EQ((*lines)[1].tokens, (Tokens{"-J", "x", "y"}));
}

struct BadCase {
  const char* what;
  std::string script;
  std::string message;  // exact
};

TEST(ExtractDirectives, BadScriptsNameTheLine) {
  const BadCase cases[] = {
      {"unterminated double quote", "#!/bin/sh\n#SBATCH -N 2\n#SBATCH -J \"abc\n",
       "line 3: unterminated double quote"},
      {"unterminated single quote", "#!/bin/sh\n\n\n#CORRAL -J 'abc\n",
       "line 4: unterminated single quote"},
      {"quote closed on a later line", "#!/bin/sh\n#SBATCH -J \"a\n#SBATCH b\"\n",
       "line 2: unterminated double quote"},
      {"escaped closing quote", "#!/bin/sh\n#SBATCH -J \"a\\\"\n",
       "line 2: unterminated double quote"},
      {"trailing backslash", "#!/bin/sh\n#SBATCH -J a\\\n",
       "line 2: backslash at the end of the line"},
      {"NUL byte", std::string("#!/bin/sh\n#SBATCH -J a\0b\n", 24), "line 2: contains a NUL byte"},
      {"NUL inside quotes", std::string("#!/bin/sh\n#SBATCH -J '\0'\n", 24),
       "line 2: contains a NUL byte"},
  };
  for (const BadCase& c : cases) {
    Result<Tokens> got = ExtractDirectives(c.script);
    ASSERT_FALSE(got.ok()) << c.what;
    EXPECT_EQ(got.status().code(), Status::Code::kInvalid) << c.what;
    EXPECT_EQ(got.status().message(), c.message) << c.what;
  }
}

TEST(ExtractDirectives, ErrorsAfterTheFirstCommandAreIgnored) {
  Result<Tokens> got = ExtractDirectives("#!/bin/sh\necho\n#SBATCH -J \"oops\n");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(got->empty());
}

TEST(ExtractDirectives, MegabyteLines) {
  const std::string big(1 << 20, 'x');
  Result<Tokens> got = ExtractDirectives("#!/bin/sh\n#SBATCH -J " + big + " -N 2\n");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, (Tokens{"-J", big, "-N", "2"}));

  // A megabyte of quotes and of blanks.
  got = ExtractDirectives("#!/bin/sh\n#SBATCH " + std::string(1 << 20, '"') + "\n");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, Tokens(1, ""));  // 2^19 empty "" pairs glued into one empty word
  got = ExtractDirectives("#!/bin/sh\n#SBATCH " + std::string(1 << 20, ' ') + "-N 2\n");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, (Tokens{"-N", "2"}));
  got = ExtractDirectives("#!/bin/sh\n#SBATCH '" + big + "\n");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().message(), "line 2: unterminated single quote");
}

TEST(ExtractDirectives, ThousandsOfDirectives) {
  std::string script = "#!/bin/sh\n";
  for (int i = 0; i < 20000; ++i) script += "#SBATCH -N " + std::to_string(i) + "\n";
  script += "hostname\n#SBATCH -N 99999\n";
  const auto start = std::chrono::steady_clock::now();
  Result<Tokens> got = ExtractDirectives(script);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 40000u);
  EXPECT_EQ(got->back(), "19999");
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST(ExtractDirectives, BinaryGarbageNeverCrashes) {
  std::mt19937 rng(12345);
  static const char kAlphabet[] = "#SBATCHCORRAL \t\n\"'\\-=\0\x01\xff\x80";
  const std::string alphabet(kAlphabet, sizeof(kAlphabet) - 1);
  int errors = 0, oks = 0;
  for (int round = 0; round < 2000; ++round) {
    std::string script = round % 2 ? "#!/bin/sh\n" : "";
    const int lines = static_cast<int>(rng() % 10);
    for (int l = 0; l < lines; ++l) {
      const uint32_t kind = rng() % 4;
      script += kind == 0 ? "#SBATCH " : kind == 1 ? "#CORRAL\t" : kind == 2 ? "# " : "";
      const int len = static_cast<int>(rng() % 40);
      for (int i = 0; i < len; ++i) {
        script +=
            rng() % 3 == 0 ? static_cast<char>(rng() % 256) : alphabet[rng() % alphabet.size()];
      }
      script += '\n';
    }
    Result<Tokens> got = ExtractDirectives(script);
    if (got.ok()) {
      ++oks;
    } else {
      ++errors;
      EXPECT_EQ(got.status().message().rfind("line ", 0), 0u) << got.status().message();
    }
  }
  EXPECT_GT(oks, 0);
  EXPECT_GT(errors, 0);
}

TEST(SplitDirectiveWords, ShellLikeSplitting) {
  Result<Tokens> got = SplitDirectiveWords("  a 'b c'\"d\"\\ e  # f g");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, (Tokens{"a", "b cd e"}));
  got = SplitDirectiveWords("");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->empty());
  got = SplitDirectiveWords("a\\");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().message(), "backslash at the end of the line");
}

}  // namespace
}  // namespace corral
