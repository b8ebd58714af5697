// The address-block arithmetic shared by the targets and the analysis
// (compiler/semantics/pod_networks.h).
#include "compiler/semantics/pod_networks.h"

#include "third_party/catch2_main.h"

namespace netpolc {
namespace {

using Strings = std::vector<std::string>;

TEST_CASE("cidr lists: comma-separated, canonical, nested blocks dropped") {
  std::string error;
  CHECK(ParseCidrList("10.128.0.0/14,192.168.0.0/16", error) ==
        Strings{"10.128.0.0/14", "192.168.0.0/16"});
  CHECK(ParseCidrList(" 192.168.0.0/16 , 10.128.0.0/14 ", error) ==
        Strings{"10.128.0.0/14", "192.168.0.0/16"});
  CHECK(ParseCidrList("10.0.0.0/8", error) == Strings{"10.0.0.0/8"});
  CHECK(ParseCidrList("10.0.0.0/8, 10.128.0.0/14, 10.0.0.0/8", error) == Strings{"10.0.0.0/8"});
  CHECK(ParseCidrList("fd01:0::/48", error) == Strings{"fd01::/48"});
  for (const char* bad : {"", " ", "10.0.0.0/8,", ",10.0.0.0/8", "10.0.0.1/8", "x", "10.0.0.0/33"}) {
    INFO(bad);
    CHECK(!ParseCidrList(bad, error).has_value());
    CHECK(!error.empty());
  }
}

TEST_CASE("pod networks: inside, around, beside a block") {
  const Strings networks = {"10.128.0.0/14", "192.168.0.0/16", "fd01::/48"};
  // A block inside (or equal to) a network holds no outside address.
  CHECK(EnclosingPodNetwork("10.128.4.0/24", networks) == "10.128.0.0/14");
  CHECK(EnclosingPodNetwork("192.168.0.0/16", networks) == "192.168.0.0/16");
  CHECK(!EnclosingPodNetwork("10.0.0.0/8", networks));
  CHECK(!EnclosingPodNetwork("203.0.113.0/24", networks));
  // Networks inside a block are cut out, strictly inside it, with the
  // block's own except blocks; others are left alone.
  CHECK(ExceptWithPodNetworks("0.0.0.0/0", {}, networks) ==
        Strings{"10.128.0.0/14", "192.168.0.0/16"});
  CHECK(ExceptWithPodNetworks("::/0", {}, networks) == Strings{"fd01::/48"});
  CHECK(ExceptWithPodNetworks("10.0.0.0/8", {"10.1.0.0/16"}, networks) ==
        Strings{"10.1.0.0/16", "10.128.0.0/14"});
  CHECK(ExceptWithPodNetworks("203.0.113.0/24", {}, networks).empty());
  // An except inside a network, or a network inside an except, is dropped.
  CHECK(ExceptWithPodNetworks("10.0.0.0/8", {"10.130.0.0/16"}, networks) ==
        Strings{"10.128.0.0/14"});
  CHECK(ExceptWithPodNetworks("10.0.0.0/8", {"10.128.0.0/9"}, networks) ==
        Strings{"10.128.0.0/9"});
  CHECK(PodNetworkOf("10.130.1.2", networks) == "10.128.0.0/14");
  CHECK(PodNetworkOf("fd01::5", networks) == "fd01::/48");
  CHECK(!PodNetworkOf("10.1.2.3", networks));
}

}  // namespace
}  // namespace netpolc
